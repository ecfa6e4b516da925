//! A small MaxMind DB writer for tests, so that they run on real `.mmdb` files without
//! downloading or shipping MaxMind's databases. It follows the public MaxMind DB format 2.0
//! spec: a binary search tree over the address bits (IPv6, with IPv4 at `::a.b.c.d`), 24-bit
//! records, a 16-byte separator, the data section, then `\xAB\xCD\xEFMaxMind.com` and the
//! metadata map. Values are written inline (no pointers) and networks must not overlap, which
//! is all a test needs.
//!
//! Shared by `crates/ecs/tests/geoip.rs` and `crates/sfevents/tests/elasticsearch_geoip.rs`
//! (through `#[path]`); each uses only part of it.
#![allow(dead_code)]

use std::net::IpAddr;

/// A value of the MMDB data section, with its exact type: the reader refuses a `uint32` where
/// the schema has a `uint16`, so records must use MaxMind's types.
#[derive(Debug, Clone)]
pub enum Data {
    Str(String),
    Double(f64),
    U16(u16),
    U32(u32),
    U64(u64),
    Bool(bool),
    Map(Vec<(String, Data)>),
    Array(Vec<Data>),
}

pub fn s(v: &str) -> Data {
    Data::Str(v.to_string())
}

pub fn map(pairs: Vec<(&str, Data)>) -> Data {
    Data::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// `{"en": name}`, plus a German name so that the English one has to be picked.
pub fn names(en: &str) -> Data {
    map(vec![("de", s(&format!("{en} (de)"))), ("en", s(en))])
}

/// A place in a City database, as MaxMind's GeoIP2 City records are laid out.
pub struct Place<'a> {
    pub continent: (&'a str, &'a str),
    pub country: (&'a str, &'a str),
    /// `(iso_code, name)`, least specific first.
    pub subdivisions: Vec<(&'a str, &'a str)>,
    pub city: Option<&'a str>,
    pub location: Option<(f64, f64)>,
    pub postal: Option<&'a str>,
    pub time_zone: Option<&'a str>,
}

impl Place<'_> {
    pub fn record(&self) -> Data {
        let country = map(vec![
            ("geoname_id", Data::U32(2_635_167)),
            ("is_in_european_union", Data::Bool(false)),
            ("iso_code", s(self.country.0)),
            ("names", names(self.country.1)),
        ]);
        let mut pairs = vec![
            (
                "continent",
                map(vec![
                    ("code", s(self.continent.0)),
                    ("geoname_id", Data::U32(6_255_148)),
                    ("names", names(self.continent.1)),
                ]),
            ),
            ("country", country.clone()),
            // Not what the processor reads: a different value catches a mix-up.
            (
                "registered_country",
                map(vec![("iso_code", s("ZZ")), ("names", names("Elsewhere"))]),
            ),
        ];
        if let Some(c) = self.city {
            pairs.push((
                "city",
                map(vec![
                    ("geoname_id", Data::U32(2_643_743)),
                    ("names", names(c)),
                ]),
            ));
        }
        let mut location = vec![("accuracy_radius", Data::U16(100))];
        if let Some((lat, lon)) = self.location {
            location.push(("latitude", Data::Double(lat)));
            location.push(("longitude", Data::Double(lon)));
        }
        if let Some(tz) = self.time_zone {
            location.push(("time_zone", s(tz)));
        }
        pairs.push(("location", map(location)));
        if let Some(p) = self.postal {
            pairs.push(("postal", map(vec![("code", s(p))])));
        }
        if !self.subdivisions.is_empty() {
            let subs = self
                .subdivisions
                .iter()
                .map(|(iso, name)| map(vec![("iso_code", s(iso)), ("names", names(name))]))
                .collect();
            pairs.push(("subdivisions", Data::Array(subs)));
        }
        map(pairs)
    }
}

/// An ASN database record; some networks have no organization name.
pub fn asn(number: u32, organization: Option<&str>) -> Data {
    let mut pairs = vec![("autonomous_system_number", Data::U32(number))];
    if let Some(o) = organization {
        pairs.push(("autonomous_system_organization", s(o)));
    }
    map(pairs)
}

#[derive(Clone, Copy)]
enum Rec {
    Empty,
    Node(usize),
    Data(usize),
}

/// Builds one database.
pub struct Writer {
    database_type: String,
    nodes: Vec<[Rec; 2]>,
    data: Vec<u8>,
}

impl Writer {
    pub fn new(database_type: &str) -> Writer {
        Writer {
            database_type: database_type.to_string(),
            nodes: vec![[Rec::Empty, Rec::Empty]],
            data: Vec::new(),
        }
    }

    /// Adds `network` (`81.2.69.142/31`, `2a02:ec80::/29`) with `data`.
    pub fn insert(&mut self, network: &str, data: &Data) -> &mut Writer {
        let (addr, len) = network.split_once('/').expect("network/prefix");
        let addr: IpAddr = addr.parse().expect("address");
        let len: usize = len.parse().expect("prefix length");
        // IPv4 lives in the IPv6 tree at ::a.b.c.d, where readers look for it.
        let (bits, len) = match addr {
            IpAddr::V4(v4) => (u128::from(v4.to_ipv6_compatible()), 96 + len),
            IpAddr::V6(v6) => (u128::from(v6), len),
        };
        assert!((1..=128).contains(&len), "prefix length of {network}");
        let offset = self.data.len();
        encode(data, &mut self.data);
        let mut node = 0;
        for depth in 0..len {
            let bit = ((bits >> (127 - depth)) & 1) as usize;
            if depth == len - 1 {
                assert!(
                    matches!(self.nodes[node][bit], Rec::Empty),
                    "{network} overlaps another network"
                );
                self.nodes[node][bit] = Rec::Data(offset);
                break;
            }
            node = match self.nodes[node][bit] {
                Rec::Node(next) => next,
                Rec::Empty => {
                    self.nodes.push([Rec::Empty, Rec::Empty]);
                    let next = self.nodes.len() - 1;
                    self.nodes[node][bit] = Rec::Node(next);
                    next
                }
                Rec::Data(_) => panic!("{network} is inside another network"),
            };
        }
        self
    }

    /// The `.mmdb` file's bytes.
    pub fn build(&self) -> Vec<u8> {
        let count = self.nodes.len();
        let value = |r: Rec| match r {
            Rec::Empty => count,
            Rec::Node(n) => n,
            // Data pointers count from the start of the data section, after the separator.
            Rec::Data(off) => count + 16 + off,
        };
        let mut out = Vec::new();
        for pair in &self.nodes {
            for r in pair {
                let v = value(*r);
                assert!(v < 1 << 24, "too big for 24-bit records");
                out.extend_from_slice(&(v as u32).to_be_bytes()[1..]);
            }
        }
        out.extend_from_slice(&[0; 16]);
        out.extend_from_slice(&self.data);
        out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
        let metadata = map(vec![
            ("binary_format_major_version", Data::U16(2)),
            ("binary_format_minor_version", Data::U16(0)),
            ("build_epoch", Data::U64(1_767_225_600)),
            ("database_type", s(&self.database_type)),
            (
                "description",
                map(vec![("en", s("sfevents test database"))]),
            ),
            ("ip_version", Data::U16(6)),
            ("languages", Data::Array(vec![s("de"), s("en")])),
            ("node_count", Data::U32(count as u32)),
            ("record_size", Data::U16(24)),
        ]);
        encode(&metadata, &mut out);
        out
    }
}

/// Data section encoding: a control byte (type in the top 3 bits, size in the low 5), the
/// extended type byte for types above 7, size bytes for sizes from 29 up, then the payload.
fn encode(d: &Data, out: &mut Vec<u8>) {
    let uint = |v: u64, ty: u8, out: &mut Vec<u8>| {
        let bytes = v.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        header(ty, bytes.len() - skip, out);
        out.extend_from_slice(&bytes[skip..]);
    };
    match d {
        Data::Str(v) => {
            header(2, v.len(), out);
            out.extend_from_slice(v.as_bytes());
        }
        Data::Double(v) => {
            header(3, 8, out);
            out.extend_from_slice(&v.to_be_bytes());
        }
        Data::U16(v) => uint(u64::from(*v), 5, out),
        Data::U32(v) => uint(u64::from(*v), 6, out),
        Data::U64(v) => uint(*v, 9, out),
        Data::Bool(v) => header(14, usize::from(*v), out),
        Data::Map(pairs) => {
            header(7, pairs.len(), out);
            for (k, v) in pairs {
                encode(&Data::Str(k.clone()), out);
                encode(v, out);
            }
        }
        Data::Array(items) => {
            header(11, items.len(), out);
            for v in items {
                encode(v, out);
            }
        }
    }
}

fn header(ty: u8, size: usize, out: &mut Vec<u8>) {
    let (low, extra): (u8, Vec<u8>) = match size {
        0..=28 => (size as u8, vec![]),
        29..=284 => (29, vec![(size - 29) as u8]),
        285..=65_820 => (30, ((size - 285) as u16).to_be_bytes().to_vec()),
        _ => (31, ((size - 65_821) as u32).to_be_bytes()[1..].to_vec()),
    };
    if ty <= 7 {
        out.push((ty << 5) | low);
    } else {
        out.push(low);
        out.push(ty - 7);
    }
    out.extend_from_slice(&extra);
}
