//! The words around commands: greetings and thanks (answered with the menu, never "not
//! recognised"), and command words typed one slip away from a known one.

use super::Command;

/// Every command word, as `Command::parse` matches it.
const COMMAND_WORDS: [&str; 17] = [
    "menu",
    "help",
    "bantuan",
    "produk",
    "list",
    "beli",
    "buy",
    "buymidtrans",
    "saldo",
    "balance",
    "topup",
    "riwayat",
    "history",
    "status",
    "cek",
    "batal",
    "cancel",
];

/// Command words shorter than this are only read exactly: one slip from a three-letter word
/// (`cek`, `buy`) is too likely another word altogether.
const CORRECTED_WORD_CHARS_MIN: usize = 4;

/// How people open a chat with a shop.
const GREETINGS: [&str; 27] = [
    "halo",
    "hallo",
    "helo",
    "hai",
    "hay",
    "hi",
    "hello",
    "hey",
    "p",
    "pp",
    "ping",
    "permisi",
    "salam",
    "assalamualaikum",
    "assalamu'alaikum",
    "assalamu alaikum",
    "asalamualaikum",
    "assalamualaikum wr wb",
    "selamat pagi",
    "selamat siang",
    "selamat sore",
    "selamat malam",
    "pagi",
    "siang",
    "sore",
    "malam",
    "met pagi",
];

const THANKS: [&str; 14] = [
    "makasih",
    "makasi",
    "mksh",
    "terima kasih",
    "terimakasih",
    "trims",
    "thanks",
    "thank you",
    "thx",
    "tq",
    "ty",
    "tengkyu",
    "oke makasih",
    "ok makasih",
];

/// How customers close a greeting or thanks (`halo kak`, `p min`, `makasih ya`).
const TRAILING_WORDS: [&str; 8] = ["kak", "ka", "min", "gan", "bang", "admin", "bos", "ya"];

/// Whether `word` is a command word as typed (no correction).
pub fn is_command_word(word: &str) -> bool {
    COMMAND_WORDS.contains(&word)
}

/// A greeting or thanks, with or without punctuation and a closing word.
pub(super) fn courtesy(lowered: &str) -> Option<Command> {
    let cleaned: String =
        lowered.chars().map(|c| if c.is_alphanumeric() || c == '\'' { c } else { ' ' }).collect::<String>();
    let mut words: Vec<&str> = cleaned.split_whitespace().collect();
    if words.len() > 1 && words.last().is_some_and(|w| TRAILING_WORDS.contains(w)) {
        words.pop();
    }
    let phrase = words.join(" ");
    if GREETINGS.contains(&phrase.as_str()) {
        Some(Command::Greeting)
    } else if THANKS.contains(&phrase.as_str()) {
        Some(Command::Thanks)
    } else {
        None
    }
}

/// The command word meant: the word itself when it is one, else the only command word one
/// slip away (a letter missing, added, changed, or two swapped), else the word as typed.
pub(super) fn corrected(typed: &str) -> &str {
    if COMMAND_WORDS.contains(&typed) || typed.chars().count() < CORRECTED_WORD_CHARS_MIN - 1 {
        return typed;
    }
    let mut near = COMMAND_WORDS
        .iter()
        .filter(|word| word.chars().count() >= CORRECTED_WORD_CHARS_MIN && one_slip_apart(typed, word));
    match (near.next(), near.next()) {
        (Some(word), None) => word,
        _ => typed,
    }
}

/// Damerau-Levenshtein distance exactly 1 (an insertion, a deletion, a substitution or a swap of
/// neighbours).
fn one_slip_apart(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a == b {
        return false;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (a_rest, b_rest) = (&a[prefix..], &b[prefix..]);
    match a_rest.len() as isize - b_rest.len() as isize {
        0 => {
            a_rest[1..] == b_rest[1..]
                || (a_rest.len() >= 2 && a_rest[0] == b_rest[1] && a_rest[1] == b_rest[0] && a_rest[2..] == b_rest[2..])
        }
        1 => a_rest[1..] == *b_rest,
        -1 => *a_rest == b_rest[1..],
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_slip_is_a_letter_missing_added_changed_or_two_swapped() {
        assert!(one_slip_apart("bel", "beli"));
        assert!(one_slip_apart("belii", "beli"));
        assert!(one_slip_apart("beil", "beli"));
        assert!(one_slip_apart("bwli", "beli"));
        assert!(!one_slip_apart("beli", "beli"));
        assert!(!one_slip_apart("bl", "beli"));
        assert!(!one_slip_apart("ebil", "beli"));
    }

    #[test]
    fn a_slip_is_corrected_only_to_one_command_word() {
        assert_eq!(corrected("bel"), "beli");
        assert_eq!(corrected("beil"), "beli");
        assert_eq!(corrected("sldo"), "saldo");
        assert_eq!(corrected("riwayt"), "riwayat");
        assert_eq!(corrected("cel"), "cel", "three-letter command words are never a correction's target");
        assert_eq!(corrected("netflix"), "netflix");
    }

    #[test]
    fn greetings_and_thanks_are_known_with_punctuation_and_honorifics() {
        for text in ["halo", "hai kak", "p", "assalamualaikum", "assalamu'alaikum min", "selamat pagi!", "Halo kak!!"] {
            assert_eq!(courtesy(&text.to_lowercase()), Some(Command::Greeting), "{text}");
        }
        for text in ["makasih", "terima kasih kak", "thx", "makasih ya"] {
            assert_eq!(courtesy(text), Some(Command::Thanks), "{text}");
        }
        assert_eq!(courtesy("halo beli viu"), None);
    }
}
