//! Test receivers that follow the destinations' documented behaviour, so sfevents' outputs can
//! be tested end to end on a machine where the real products cannot be installed. They share no
//! code with sfevents.
//!
//! - [`elasticsearch`]: Elasticsearch and OpenSearch (`_bulk`, data streams, templates,
//!   lifecycle policies, authentication, injected faults).

pub mod elasticsearch;
