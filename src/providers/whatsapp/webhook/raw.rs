//! Meta's webhook JSON as it arrives: the wire shape, as lenient as Meta's documentation is
//! varied: every field optional or defaulted, unknown fields ignored.

use serde::Deserialize;

#[derive(Deserialize)]
pub struct Payload {
    #[serde(default)]
    pub object: String,
    #[serde(default)]
    pub entry: Vec<Entry>,
}

#[derive(Deserialize)]
pub struct Entry {
    #[serde(default)]
    pub changes: Vec<Change>,
}

#[derive(Deserialize)]
pub struct Change {
    #[serde(default)]
    pub field: String,
    #[serde(default)]
    pub value: Value,
}

#[derive(Deserialize, Default)]
pub struct Value {
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub messages: Vec<Message>,
    #[serde(default)]
    pub statuses: Vec<Status>,
    #[serde(default)]
    pub errors: Vec<Error>,
}

#[derive(Deserialize)]
pub struct Contact {
    pub wa_id: Option<String>,
    pub user_id: Option<String>,
    pub profile: Option<Profile>,
}

#[derive(Deserialize)]
pub struct Profile {
    pub name: Option<String>,
}

#[derive(Deserialize)]
pub struct Message {
    #[serde(default)]
    pub id: String,
    pub from: Option<String>,
    pub from_user_id: Option<String>,
    pub timestamp: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: String,
    pub text: Option<Text>,
    pub interactive: Option<Interactive>,
    pub button: Option<Button>,
    pub image: Option<Media>,
    pub video: Option<Media>,
    pub audio: Option<Media>,
    pub document: Option<Media>,
    pub sticker: Option<Media>,
    pub unsupported: Option<Unsupported>,
}

impl Message {
    pub fn media(&self, kind: &str) -> Option<&Media> {
        match kind {
            "image" => self.image.as_ref(),
            "video" => self.video.as_ref(),
            "audio" => self.audio.as_ref(),
            "document" => self.document.as_ref(),
            "sticker" => self.sticker.as_ref(),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
pub struct Text {
    #[serde(default)]
    pub body: String,
}

#[derive(Deserialize)]
pub struct Interactive {
    pub list_reply: Option<Reply>,
    pub button_reply: Option<Reply>,
}

#[derive(Deserialize)]
pub struct Reply {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub title: String,
}

#[derive(Deserialize)]
pub struct Button {
    #[serde(default)]
    pub payload: String,
    #[serde(default)]
    pub text: String,
}

#[derive(Deserialize)]
pub struct Media {
    pub caption: Option<String>,
}

#[derive(Deserialize)]
pub struct Unsupported {
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Deserialize)]
pub struct Status {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub status: String,
    pub timestamp: Option<String>,
    pub recipient_id: Option<String>,
    #[serde(default)]
    pub errors: Vec<Error>,
}

#[derive(Deserialize)]
pub struct Error {
    #[serde(default)]
    pub code: i64,
    pub title: Option<String>,
    pub message: Option<String>,
    pub error_data: Option<ErrorData>,
}

#[derive(Deserialize)]
pub struct ErrorData {
    pub details: Option<String>,
}
