//! Archive lines for the lake's tests: every EventLogFile type the generator knows (converted
//! by the archive's own CSV converter, as collected), hostile CSV cells, and object-like lines
//! written by hand (so their text has what serde_json would not write: `\u` escapes of plain
//! letters, escaped keys, keys given twice, spaces between tokens, numbers in other forms).

use archive::normalize::{convert_csv, ElfProvenance};
use chrono::{TimeZone, Utc};

/// One EventLogFile CSV's archive lines.
pub fn archive_lines(event_type: &str, file_id: &str, csv: &[u8]) -> Vec<String> {
    let p = ElfProvenance {
        org_id: "00D000000000001AAA".into(),
        event_type: event_type.into(),
        file_id: file_id.into(),
        log_date: Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap(),
        interval: "Daily".into(),
        sequence: 0,
    };
    let mut out = Vec::new();
    convert_csv(csv, &p, &mut out).expect("the CSV converts");
    String::from_utf8(out)
        .expect("UTF-8")
        .lines()
        .map(str::to_string)
        .collect()
}

/// Every generated type's archive lines, one list per file.
pub fn generated() -> Vec<Vec<String>> {
    let types = sfgen::Org::known_event_types();
    let org = sfgen::Org::generate(sfgen::OrgSpec {
        seed: 21,
        days: 1,
        anchor: Utc.with_ymd_and_hms(2024, 3, 2, 13, 37, 12).unwrap(),
        event_types: types.iter().map(|t| t.to_string()).collect(),
        hourly: false,
        rows_per_hour: (1, 3),
        late_files: false,
        big_file_bytes: None,
        records_per_hour: (0, 0),
        duplicate_event_identifiers: false,
    });
    org.files
        .iter()
        .map(|f| {
            let body: Vec<u8> = org.body(&f.id, 1 << 20).flatten().collect();
            archive_lines(&f.event_type, &f.id, &body)
        })
        .collect()
}

/// Cells a reader can get wrong: quotes, backslashes, control characters, non-ASCII, number
/// and time look-alikes, empty cells.
pub fn hostile() -> Vec<String> {
    let header = "EVENT_TYPE,TIMESTAMP,TIMESTAMP_DERIVED,USER_ID,USER_NAME,CLIENT_IP,URI,STATUS_CODE,REQUEST_SIZE,RUN_TIME,IS_API,ZIP,attributes\n";
    let rows = [
        r#"ApiTotalUsage,20240301101010.123,2024-03-01T10:10:10.123Z,005A,a@b.c,10.0.0.1,/x,200,12,1.50,true,007,x"#,
        r#"ApiTotalUsage,20240301101010,,"","q""uote\back",::1,"/é/日/😀",+5,0x10,-3.25,1,0,"#,
        r#"ApiTotalUsage,2024030110101,2024-02-30T00:00:00.000Z,,,256.1.1.1,,,,.5,FALSE,00,"#,
        "ApiTotalUsage,,2024-03-01T10:10:10Z,005C,\"line\nbreak\ttab\",,,,,-0.0,0,,\"\x01ctl\"\n",
        "ApiTotalUsage,,2024-03-01 10:10:10,,<b>&amp;\u{2028}x\u{2029},,,,,1e5,,,",
        r#"ApiTotalUsage,,,,,,,,,,,,"#,
    ];
    let csv = format!("{header}{}\n", rows.join("\n"));
    let mut lines = archive_lines("ApiTotalUsage", "0AT000000000001AAA", csv.as_bytes());
    lines.extend(archive_lines(
        "Bogus_Type2",
        "0AT000000000002AAA",
        csv.replace("ApiTotalUsage", "X").as_bytes(),
    ));
    lines
}

/// Object-like lines (platform events, objects, alerts) and odd shapes, as text.
pub fn objects() -> Vec<String> {
    let head = |id: &str| {
        format!(
            r#""@timestamp":"2024-03-01T10:00:00.000Z","id":"{id}","org_id":"00D000000000001AAA","source":"LoginEvent""#
        )
    };
    let mut lines = vec![
        format!(
            r#"{{{},"fields":{{"N":7,"F":7.0,"E":1e5,"G":1E-2,"Z":-0,"B":true,"C":false,"U":null,"S":"12","T":"2024-03-01T10:00:00.000Z","O":{{"b":1.50,"a":[1,"\u00e9",{{}}]}},"L":[],"Big":12345678901234567890,"Neg":-9223372036854775808}}}}"#,
            head("o-1")
        ),
        format!(
            r#"{{{},"fields":{{"N":"8","F":2,"E":"x","G":0.5,"Z":0,"B":"1","C":0,"U":"","S":"a\"b\\c\/d\u0041\n","T":"2024-03-01","O":"{{}}","L":[{{"k":null}}],"Big":1,"Neg":-1}}}}"#,
            head("o-2")
        ),
        format!(
            r#"{{ {} , "fields" : {{ "N" : 9 , "B" : false , "S" : "x" , "Extra" : "\u65e5" }} }}"#,
            head("o-3")
        ),
        // A key with an escape (the tree reads it), and a key given twice (the tree keeps its
        // first place and last value).
        format!(
            r#"{{{},"fields":{{"N":1,"K\u0065y":"v","S":"s"}}}}"#,
            head("o-4")
        ),
        format!(r#"{{{},"fields":{{"N":1,"S":"s","N":"2"}}}}"#, head("o-5")),
        // No fields, fields that are not an object, a top-level key given twice.
        format!(r#"{{{}}}"#, head("o-6")),
        format!(r#"{{{},"fields":"x"}}"#, head("o-7")),
        format!(r#"{{{},"fields":[1,2]}}"#, head("o-8")),
        format!(
            r#"{{{},"fields":{{"N":1}},"fields":{{"S":"last"}},"org_id":"00D000000000002AAA"}}"#,
            head("o-9")
        ),
    ];
    // Top-level provenance in other forms: numbers as text and as decimals, a null file_id,
    // an escaped value, and the lake's own names inside fields.
    lines.push(r#"{"@timestamp":"2024-03-01T10:00:00.000Z","id":"e-\u0031","org_id":"00D000000000001AAA","source":"EventLogFile","event_type":"API","file_id":null,"log_date":"2024-03-01","interval":"Hourly","sequence":"3","row":2.0,"fields":{"TIMESTAMP":"20240301100000.000","id":"x","ROW":"4"}}"#.into());
    lines.push(r#"{"@timestamp":"2024-03-01T10:00:00.000Z","id":"e-2","org_id":"00D000000000001AAA","source":"EventLogFile","event_type":"API","file_id":"0AT\u0031","log_date":5,"interval":7,"sequence":-1,"row":true,"fields":{"TIMESTAMP":"x","N":[1]}}"#.into());
    lines
}
