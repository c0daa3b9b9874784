//! Parsing and printing ids: what each accepts at the edge, and how each reads back.

use super::*;

/// Strings on both sides of every rule the parsers check: length, case, characters, the
/// space `trim` removes and the space it keeps (U+FEFF, U+200B are not White_Space).
const SAMPLES: &[&str] = &[
    "",
    " ",
    "viu",
    "VIU1B",
    "a-b_c",
    " viu ",
    "\tviu\n",
    "\u{3000}viu\u{85}",
    "\u{2003}viu\u{2029}",
    "\u{feff}viu",
    "viu\u{200b}",
    "a b",
    "a.b",
    "caf\u{e9}",
    "viu/1",
    "v\u{0}",
    "\u{b}\u{c}x\u{a0}",
    "TRX-0123456789-1",
    "trx-ABCDEF0123-1700000000000",
    " TRX-0123456789-1\r\n",
    "TRX-0123456789-",
    "TRX-012345678-1",
    "TRX-0123456789-12345678901234567",
    "TRX-0123456789-1234567890123456",
    "TRX-01234567zz-1",
    "TRX-0123456789-1-2",
    "TRX 0123456789-1",
    "\u{1680}trx-0123456789-9\u{202f}",
];

fn agree(pattern: &str, parses: impl Fn(&str) -> bool, samples: impl IntoIterator<Item = String>) {
    let regex = regex::Regex::new(pattern).unwrap();
    for sample in samples {
        assert_eq!(regex.is_match(&sample), parses(&sample), "{sample:?} against {pattern}");
    }
}

#[test]
fn the_product_code_pattern_accepts_what_the_parser_accepts() {
    let lengths = [PRODUCT_CODE_LEN_MAX - 1, PRODUCT_CODE_LEN_MAX, PRODUCT_CODE_LEN_MAX + 1].map(|n| "x".repeat(n));
    let samples = SAMPLES.iter().map(|s| s.to_string()).chain(lengths);
    agree(PRODUCT_CODE_PATTERN, |s| ProductCode::parse(s).is_ok(), samples);
}

#[test]
fn the_order_id_pattern_accepts_what_the_parser_accepts() {
    let generated = OrderId::generate().as_str().to_string();
    let samples = SAMPLES.iter().map(|s| s.to_string()).chain([generated]);
    agree(ORDER_ID_PATTERN, |s| OrderId::parse(s).is_ok(), samples);
}

#[test]
fn the_visible_patterns_accept_what_the_parsers_accept_in_ascii() {
    let ids = [CUSTOMER_ID_LEN_MAX, CUSTOMER_ID_LEN_MAX + 1, REFERENCE_LEN_MAX, REFERENCE_LEN_MAX + 1];
    let samples = || SAMPLES.iter().map(|s| s.to_string()).chain(ids.map(|n| "x".repeat(n)));
    agree(CUSTOMER_ID_PATTERN, |s| CustomerId::parse(s).is_ok(), samples());
    agree(REFERENCE_PATTERN, |s| Reference::parse(s).is_ok(), samples());
}

proptest::proptest! {
    #[test]
    fn the_patterns_and_the_parsers_agree_on_any_string(
        text in "[a-zA-Z0-9_\\- .\t\n\u{85}\u{a0}\u{3000}\u{feff}\u{e9}]{0,40}",
        order in "[ \t]?(TRX|trx|TrX|TR|TRXX)?-?[0-9a-fA-Fg]{8,11}-?[0-9]{0,17}[ \u{2028}]?",
    ) {
        agree(PRODUCT_CODE_PATTERN, |s| ProductCode::parse(s).is_ok(), [text.clone(), order.clone()]);
        agree(ORDER_ID_PATTERN, |s| OrderId::parse(s).is_ok(), [text, order]);
    }

    /// At most 21 characters of at most 3 bytes each: within both limits in bytes.
    #[test]
    fn the_visible_patterns_and_the_parsers_agree_within_the_limits(
        text in "[a-z0-9_\\- .\t\u{0}\u{1f}\u{7f}\u{85}\u{9f}\u{a0}\u{3000}\u{feff}\u{e9}]{0,21}",
    ) {
        agree(CUSTOMER_ID_PATTERN, |s| CustomerId::parse(s).is_ok(), [text.clone()]);
        agree(REFERENCE_PATTERN, |s| Reference::parse(s).is_ok(), [text]);
    }
}

#[test]
fn product_codes_are_lower_cased_and_validated() {
    assert_eq!(ProductCode::parse("VIU1B").unwrap().as_str(), "viu1b");
    assert!(ProductCode::parse("").is_err());
    assert!(ProductCode::parse("a b").is_err());
    assert!(ProductCode::parse(&"x".repeat(33)).is_err());
}

#[test]
fn a_shares_code_is_stored_and_read_back_but_never_parsed_from_an_owner() {
    let home = ProductCode::parse("Kopi-1").unwrap();
    let share = home.share(3);
    assert_eq!(share.as_str(), "kopi-1~3");
    assert_eq!(share.share_of(), Some((home.clone(), 3)));
    assert!(share.is_share() && !home.is_share());
    assert_eq!(home.share_of(), None);
    assert_eq!((share.home(), home.home()), (home.clone(), home.clone()));
    assert_eq!(ProductCode::parse_stored("kopi-1~3").unwrap(), share);
    assert_eq!(ProductCode::parse_stored("kopi-1").unwrap(), home);
    assert_eq!(serde_json::from_str::<ProductCode>("\"kopi-1~3\"").unwrap(), share);
    assert!(ProductCode::parse("kopi-1~3").is_err(), "an owner's code never takes a share's form");
    for bad in ["kopi~", "~3", "kopi~x", "kopi~3~1", "kopi~-1", "kopi~+3", "kopi~03", "KOPI~3", " kopi~3", "kopi~99999"]
    {
        assert!(ProductCode::parse_stored(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn generated_order_ids_parse_and_differ() {
    let a = OrderId::generate();
    let b = OrderId::generate();
    assert_ne!(a, b);
    assert_eq!(OrderId::parse(a.as_str()).unwrap(), a);
    assert!(a.as_str().starts_with("TRX-"));
}

#[test]
fn references_derived_from_an_order_id_keep_the_id_whole() {
    let order = OrderId::parse("TRX-0123456789-1796461336786").unwrap();
    assert_eq!(order.debit_reference().as_str(), "order:TRX-0123456789-1796461336786");
    assert_eq!(order.refund_reference().as_str(), "refund:TRX-0123456789-1796461336786");
    let long = "x".repeat(STACK_TEXT_LEN_MAX + 1);
    assert_eq!(&*shared(format_args!("order:{long}")), format!("order:{long}"));
}

#[test]
fn malformed_order_ids_are_refused() {
    for bad in ["", "TRX-", "TRX-123-1", "TRX-zzzzzzzzzz-1", "ORD-0123456789-1", "TRX-0123456789-"] {
        assert!(OrderId::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn customer_ids_need_not_be_phone_numbers() {
    assert!(CustomerId::parse("6281234567890").is_ok());
    assert!(CustomerId::parse("budi.username").is_ok());
    assert!(CustomerId::parse("has space").is_err());
    assert_eq!(CustomerId::parse("6281234567890").unwrap().masked().to_string(), "***7890");
    assert_eq!(CustomerId::parse("abc").unwrap().masked().to_string(), "***abc");
    assert_eq!(CustomerId::parse("budi-ñandú").unwrap().masked().to_string(), "***andú");
}
