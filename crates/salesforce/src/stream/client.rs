//! The Pub/Sub calls with an org's auth metadata, and the schema cache.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use pubsub_api::proto::pub_sub_client::PubSubClient;
use pubsub_api::proto::{SchemaRequest, TopicInfo, TopicRequest};
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::Channel;

use super::decode::EventSchema;
use super::StreamError;
use base::secret::Secret;

/// Who is calling: what every Pub/Sub call carries as metadata (`accesstoken`,
/// `instanceurl`, `tenantid`).
#[derive(Debug, Clone)]
pub struct Auth {
    /// The REST session's access token: the Pub/Sub API accepts the same sessions.
    pub access_token: Secret,
    /// The org's instance URL, as the token answer gave it.
    pub instance_url: String,
    /// The org id (15 or 18 characters), which Pub/Sub calls the tenant id.
    pub tenant_id: String,
}

impl Auth {
    /// The metadata of a REST session; `None` when the session does not name its org (no
    /// identity URL): then use [`Auth::for_org`] with the org id from elsewhere.
    pub fn from_session(s: &crate::auth::Session) -> Option<Auth> {
        Some(Auth::for_org(s, s.org_id()?))
    }

    /// The metadata of a REST session of the org `org_id`.
    pub fn for_org(s: &crate::auth::Session, org_id: String) -> Auth {
        Auth {
            access_token: s.access_token.clone(),
            instance_url: s.instance_url.as_str().trim_end_matches('/').to_string(),
            tenant_id: org_id,
        }
    }
}

/// The metadata values, checked once (not at every call).
#[derive(Clone)]
struct Metadata {
    token: AsciiMetadataValue,
    instance_url: AsciiMetadataValue,
    tenant_id: AsciiMetadataValue,
}

impl Metadata {
    fn new(auth: &Auth) -> Result<Metadata, StreamError> {
        let value = |v: &str, what| {
            AsciiMetadataValue::try_from(v).map_err(|_| StreamError::Metadata { what })
        };
        let mut token = value(auth.access_token.expose(), "access token")?;
        // Keeps the token out of tonic's and hyper's Debug output.
        token.set_sensitive(true);
        Ok(Metadata {
            token,
            instance_url: value(&auth.instance_url, "instance URL")?,
            tenant_id: value(&auth.tenant_id, "org id")?,
        })
    }
}

/// The Pub/Sub API of one org. Cheap to clone: clones share the channel and the schemas.
#[derive(Clone)]
pub struct PubSub {
    pub(super) client: PubSubClient<Channel>,
    metadata: Metadata,
    /// Writer schemas by schema id: an id names one schema for good, so it is fetched once.
    schemas: Arc<Mutex<HashMap<String, Arc<EventSchema>>>>,
}

impl PubSub {
    /// The API over `channel` (see [`super::connect`]), calling as `auth`.
    pub fn new(channel: Channel, auth: &Auth) -> Result<PubSub, StreamError> {
        Ok(PubSub {
            client: PubSubClient::new(channel),
            metadata: Metadata::new(auth)?,
            schemas: Arc::default(),
        })
    }

    /// Connects to the Pub/Sub API at `url` (see [`super::connect`]) and calls as `auth`.
    pub async fn open(
        url: &str,
        ca_file: Option<&std::path::Path>,
        auth: &Auth,
    ) -> Result<PubSub, StreamError> {
        PubSub::new(super::connect(url, ca_file).await?, auth)
    }

    /// Calls from now on as `auth` (a renewed session); open subscriptions keep theirs.
    pub fn set_auth(&mut self, auth: &Auth) -> Result<(), StreamError> {
        self.metadata = Metadata::new(auth)?;
        Ok(())
    }

    /// `msg` with the auth metadata.
    pub(super) fn request<T>(&self, msg: T) -> tonic::Request<T> {
        let mut r = tonic::Request::new(msg);
        let md = r.metadata_mut();
        md.insert("accesstoken", self.metadata.token.clone());
        md.insert("instanceurl", self.metadata.instance_url.clone());
        md.insert("tenantid", self.metadata.tenant_id.clone());
        r
    }

    /// The topic `name` (`/event/LoginEventStream`), refused with the fix when it does not
    /// exist or may not be subscribed to.
    pub async fn topic(&self, name: &str) -> Result<TopicInfo, StreamError> {
        let req = self.request(TopicRequest {
            topic_name: name.to_string(),
        });
        let info = self
            .client
            .clone()
            .get_topic(req)
            .await
            .map_err(|s| StreamError::from_status(s, "GetTopic", Some(name)))?
            .into_inner();
        if !info.can_subscribe {
            return Err(StreamError::TopicNotEnabled {
                topic: name.to_string(),
                message: "GetTopic answers can_subscribe: false".into(),
            });
        }
        Ok(info)
    }

    /// The writer schema `id`, from the cache or `GetSchema`.
    pub async fn schema(&self, id: &str) -> Result<Arc<EventSchema>, StreamError> {
        if let Some(s) = self.cached(id) {
            return Ok(s);
        }
        let req = self.request(SchemaRequest {
            schema_id: id.to_string(),
        });
        let info = self
            .client
            .clone()
            .get_schema(req)
            .await
            .map_err(|s| StreamError::from_status(s, &format!("GetSchema {id}"), None))?
            .into_inner();
        let schema = Arc::new(EventSchema::parse(id, &info.schema_json)?);
        if let Ok(mut m) = self.schemas.lock() {
            m.insert(id.to_string(), schema.clone());
        }
        Ok(schema)
    }

    fn cached(&self, id: &str) -> Option<Arc<EventSchema>> {
        self.schemas.lock().ok()?.get(id).cloned()
    }

    /// How many schemas are cached.
    pub fn cached_schemas(&self) -> usize {
        self.schemas.lock().map_or(0, |m| m.len())
    }
}
