//! Where logins come from: the org's users' home places, and the far-away places attack
//! scenarios log in from (never a user's home, so a scenario's country is always new).

/// Where a login comes from.
pub(crate) struct Geo {
    pub city: &'static str,
    pub country: &'static str,
    pub iso: &'static str,
    pub postal: &'static str,
    pub subdivision: &'static str,
    pub lat: f64,
    pub lon: f64,
}

pub(crate) const GEOS: &[Geo] = &[
    Geo {
        city: "San Francisco",
        country: "United States",
        iso: "US",
        postal: "94105",
        subdivision: "California",
        lat: 37.7898,
        lon: -122.3942,
    },
    Geo {
        city: "New York",
        country: "United States",
        iso: "US",
        postal: "10001",
        subdivision: "New York",
        lat: 40.7506,
        lon: -73.9972,
    },
    Geo {
        city: "London",
        country: "United Kingdom",
        iso: "GB",
        postal: "EC2A",
        subdivision: "England",
        lat: 51.5223,
        lon: -0.0835,
    },
    Geo {
        city: "Frankfurt am Main",
        country: "Germany",
        iso: "DE",
        postal: "60313",
        subdivision: "Hesse",
        lat: 50.1155,
        lon: 8.6842,
    },
    Geo {
        city: "Bengaluru",
        country: "India",
        iso: "IN",
        postal: "560001",
        subdivision: "Karnataka",
        lat: 12.9719,
        lon: 77.5937,
    },
    Geo {
        city: "Tokyo",
        country: "Japan",
        iso: "JP",
        postal: "100-0005",
        subdivision: "Tokyo",
        lat: 35.6812,
        lon: 139.7671,
    },
];

/// Where attack scenarios log in from: countries no generated user lives in.
pub(crate) const ATTACK_GEOS: &[Geo] = &[
    Geo {
        city: "Bucharest",
        country: "Romania",
        iso: "RO",
        postal: "010011",
        subdivision: "Bucuresti",
        lat: 44.4268,
        lon: 26.1025,
    },
    Geo {
        city: "Sao Paulo",
        country: "Brazil",
        iso: "BR",
        postal: "01000-000",
        subdivision: "Sao Paulo",
        lat: -23.5505,
        lon: -46.6333,
    },
    Geo {
        city: "Singapore",
        country: "Singapore",
        iso: "SG",
        postal: "018956",
        subdivision: "Singapore",
        lat: 1.2821,
        lon: 103.8503,
    },
    Geo {
        city: "Lagos",
        country: "Nigeria",
        iso: "NG",
        postal: "100001",
        subdivision: "Lagos",
        lat: 6.4550,
        lon: 3.3841,
    },
];

/// A user's home place: chosen by their home IP, as every generated login of theirs is.
pub(crate) fn home(ip: [u8; 4]) -> &'static Geo {
    &GEOS[ip[1] as usize % GEOS.len()]
}
