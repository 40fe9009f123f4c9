//! The SSML subset (see the module doc of [`super`]) parsed into a [`Markup`], with errors at the
//! line and column of the offending tag or attribute. XML itself is read by `roxmltree`.

use roxmltree::{Document, Node};

use super::{values, Item, Markup, Pos, Prosody, StyleSetting};
use crate::error::Result;

/// The root added around a line that does not start with `<speak`.
const WRAP: &str = "<speak>";

/// SSML's namespace (the only one tags may be in).
const SSML_NS: &str = "http://www.w3.org/2001/10/synthesis";

/// Parses `text` as markup (a `<speak>` document, or a line holding tags that is read as if it
/// were wrapped in one).
pub fn parse(text: &str) -> Result<Markup> {
    let wrapped = !text.trim_start().starts_with("<speak");
    let doc_text = if wrapped { format!("{WRAP}{text}</speak>") } else { text.to_string() };
    let reader = Reader { wrapped };
    let doc = Document::parse(&doc_text).map_err(|e| {
        let p = e.pos();
        let msg = match &e {
            // The `<speak>` the line was wrapped in is ours: name the user's tag instead.
            roxmltree::Error::UnexpectedCloseTag(open, close, _) if wrapped && close == "speak" => format!("<{open}> is never closed"),
            roxmltree::Error::UnexpectedCloseTag(open, close, _) if wrapped && open == "speak" => format!("</{close}> closes no open tag"),
            // roxmltree ends its messages with " at ROW:COL" of the wrapped text: ours replaces it.
            _ => {
                let msg = e.to_string();
                msg.rsplit_once(" at ").map_or(msg.as_str(), |(m, _)| m).to_string()
            }
        };
        reader.pos(p.row as usize, p.col as usize).error(msg)
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "speak" {
        return Err(reader.at(&doc, root.range().start).error(format!("the root tag is <{}>, not <speak>", root.tag_name().name())));
    }
    reader.check_ns(&doc, root)?;
    reader.attributes(&doc, root, &["version", "lang"])?;
    let mut out = Markup::default();
    reader.children(&doc, root, &Prosody::default(), &mut out)?;
    Ok(out)
}

/// Walks the document; knows whether the text was wrapped (positions on the first line are then
/// shifted by [`WRAP`]).
struct Reader {
    wrapped: bool,
}

impl Reader {
    /// The line's position for a 1-based row and column of the parsed text.
    fn pos(&self, row: usize, col: usize) -> Pos {
        let col = if self.wrapped && row == 1 { col.saturating_sub(WRAP.len()).max(1) } else { col };
        Pos { line: row, column: col }
    }

    /// The line's position of byte `byte` of the parsed text.
    fn at(&self, doc: &Document, byte: usize) -> Pos {
        let p = doc.text_pos_at(byte);
        self.pos(p.row as usize, p.col as usize)
    }

    fn check_ns(&self, doc: &Document, node: Node) -> Result<()> {
        match node.tag_name().namespace() {
            None | Some(SSML_NS) => Ok(()),
            Some(ns) => Err(self.at(doc, node.range().start).error(format!("<{}> is in namespace `{ns}`, not SSML's", node.tag_name().name()))),
        }
    }

    /// Refuses attributes of `node` not named in `known`.
    fn attributes(&self, doc: &Document, node: Node, known: &[&str]) -> Result<()> {
        for a in node.attributes() {
            if !known.contains(&a.name()) {
                let tag = node.tag_name().name();
                let expected = if known.is_empty() { "none".to_string() } else { known.join(", ") };
                return Err(self.at(doc, a.range().start).error(format!("<{tag}> has no attribute `{}` (it takes: {expected})", a.name())));
            }
        }
        Ok(())
    }

    /// The value of attribute `name` of `node` through `parse`, with errors at the attribute.
    fn value<T>(&self, doc: &Document, node: Node, name: &str, parse: impl Fn(&str) -> std::result::Result<T, String>) -> Result<Option<T>> {
        match node.attributes().find(|a| a.name() == name) {
            None => Ok(None),
            Some(a) => parse(a.value().trim()).map(Some).map_err(|e| self.at(doc, a.range_value().start).error(e)),
        }
    }

    /// Attribute `name`, which `node` must have.
    fn required<'a>(&self, doc: &Document, node: Node<'a, '_>, name: &str) -> Result<&'a str> {
        node.attribute(name)
            .ok_or_else(|| self.at(doc, node.range().start).error(format!("<{}> needs a `{name}` attribute", node.tag_name().name())))
    }

    /// The text inside `node`, which may hold nothing else.
    fn text_only(&self, doc: &Document, node: Node) -> Result<String> {
        let mut s = String::new();
        for c in node.children() {
            if c.is_element() {
                return Err(self.at(doc, c.range().start).error(format!("<{}> may hold only text, not <{}>", node.tag_name().name(), c.tag_name().name())));
            }
            if let Some(t) = c.text().filter(|_| c.is_text()) {
                s.push_str(t);
            }
        }
        Ok(s)
    }

    fn children(&self, doc: &Document, node: Node, prosody: &Prosody, out: &mut Markup) -> Result<()> {
        for c in node.children() {
            if c.is_text() {
                push_text(out, c.text().unwrap_or_default(), prosody);
            } else if c.is_element() {
                self.element(doc, c, prosody, out)?;
            }
        }
        Ok(())
    }

    fn element(&self, doc: &Document, e: Node, outer: &Prosody, out: &mut Markup) -> Result<()> {
        self.check_ns(doc, e)?;
        let here = self.at(doc, e.range().start);
        let mut p = outer.clone();
        match e.tag_name().name() {
            "break" => {
                self.attributes(doc, e, &["time", "strength"])?;
                if e.has_children() {
                    return Err(here.error("<break> must be empty: write <break …/>"));
                }
                let seconds = match self.value(doc, e, "time", values::time)? {
                    Some(t) => t,
                    None => self.value(doc, e, "strength", values::strength)?.unwrap_or(values::strength("medium").expect("known")),
                };
                out.items.push(Item::Break { seconds });
                return Ok(());
            }
            "prosody" => {
                self.attributes(doc, e, &["rate", "pitch", "volume"])?;
                if let Some(l) = self.value(doc, e, "rate", values::rate)? {
                    p.length *= l;
                }
                if let Some(st) = self.value(doc, e, "pitch", values::pitch)? {
                    p.pitch_st += st;
                }
                if let Some(db) = self.value(doc, e, "volume", values::volume)? {
                    p.volume_db += db;
                }
            }
            "emphasis" => {
                self.attributes(doc, e, &["level"])?;
                let (l, db) = self.value(doc, e, "level", values::emphasis)?.unwrap_or(values::emphasis("moderate").expect("known"));
                p.length *= l;
                p.volume_db += db;
            }
            "style" => {
                self.attributes(doc, e, &["name", "alpha"])?;
                let name = self.required(doc, e, "name")?.trim().to_string();
                if name.is_empty() {
                    return Err(here.error("<style> needs a non-empty `name`"));
                }
                let alpha = self.value(doc, e, "alpha", values::alpha)?.unwrap_or(1.0);
                p.styles.push(StyleSetting { name, alpha, at: here });
            }
            "phoneme" => {
                self.attributes(doc, e, &["ph", "alphabet"])?;
                if let Some(a) = e.attribute("alphabet").filter(|a| *a != "ipa") {
                    return Err(here.error(format!("<phoneme alphabet=\"{a}\">: only `ipa` is known")));
                }
                let raw = self.required(doc, e, "ph")?;
                let ph = raw.trim().to_string();
                if ph.is_empty() {
                    return Err(here.error("<phoneme> needs a non-empty `ph`"));
                }
                // The value's first symbol (entities before it would shift the columns a little).
                let value = e.attributes().find(|a| a.name() == "ph").map_or(0, |a| a.range_value().start);
                let ipa_at = self.at(doc, value + (raw.len() - raw.trim_start().len()));
                let shown = self.text_only(doc, e)?;
                out.items.push(Item::Text { text: shown.clone(), ipa: Some(ph), ipa_at: Some(ipa_at), shown: Some(shown), prosody: p });
                return Ok(());
            }
            "sub" => {
                self.attributes(doc, e, &["alias"])?;
                let alias = self.required(doc, e, "alias")?.to_string();
                let shown = self.text_only(doc, e)?;
                out.items.push(Item::Text { text: alias, ipa: None, ipa_at: None, shown: Some(shown), prosody: p });
                return Ok(());
            }
            other => {
                return Err(here.error(format!("unknown tag <{other}> (known: speak, break, prosody, emphasis, style, phoneme, sub)")));
            }
        }
        self.children(doc, e, &p, out)
    }
}

/// Adds plain text in `prosody`, joining it to the run before when that has the same prosody.
fn push_text(out: &mut Markup, text: &str, prosody: &Prosody) {
    if let Some(Item::Text { text: t, ipa: None, shown: None, prosody: p, .. }) = out.items.last_mut() {
        if p == prosody {
            t.push_str(text);
            return;
        }
    }
    out.items.push(Item::Text { text: text.to_string(), ipa: None, ipa_at: None, shown: None, prosody: prosody.clone() });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::markup::read;

    fn err(text: &str) -> (usize, usize, String) {
        match read(text) {
            Err(Error::Markup { line, column, reason }) => (line, column, reason),
            other => panic!("{text}: expected a markup error, got {other:?}"),
        }
    }

    #[test]
    fn a_line_with_every_tag() {
        let m = read(r#"Hi <break time="300ms"/><prosody rate="slow" volume="-3dB">there <emphasis>you</emphasis></prosody> <style name="angry" alpha="0.8">go <sub alias="doctor">Dr.</sub></style> <phoneme ph="ˈzɪkθɑːɹ">Zyx'thar</phoneme> &amp; co"#).unwrap();
        let texts: Vec<String> = m
            .items
            .iter()
            .map(|i| match i {
                Item::Text { text, ipa, shown, prosody, .. } => format!("{text}|{ipa:?}|{shown:?}|{:.3}|{}|{:?}", prosody.length, prosody.volume_db, prosody.style("angry")),
                Item::Break { seconds } => format!("break {seconds}"),
            })
            .collect();
        let ph = m.items.iter().find_map(|i| match i {
            Item::Text { ipa: Some(_), ipa_at, .. } => *ipa_at,
            _ => None,
        });
        let line = r#"Hi <break time="300ms"/><prosody rate="slow" volume="-3dB">there <emphasis>you</emphasis></prosody> <style name="angry" alpha="0.8">go <sub alias="doctor">Dr.</sub></style> <phoneme ph=""#;
        assert_eq!(ph, Some(Pos { line: 1, column: line.chars().count() + 1 }), "where the IPA's first symbol stands");
        assert_eq!(
            texts,
            [
                "Hi |None|None|1.000|0|None",
                "break 0.3",
                "there |None|None|1.250|-3|None",
                "you|None|None|1.438|0|None",
                " |None|None|1.000|0|None",
                "go |None|None|1.000|0|Some(0.8)",
                "doctor|None|Some(\"Dr.\")|1.000|0|Some(0.8)",
                " |None|None|1.000|0|None",
                "Zyx'thar|Some(\"ˈzɪkθɑːɹ\")|Some(\"Zyx'thar\")|1.000|0|None",
                " & co|None|None|1.000|0|None",
            ]
        );
        assert!(m.has_styles());
        let plain = read("5 < 6 & fish").unwrap();
        assert_eq!(plain, crate::markup::Markup::plain("5 < 6 & fish"));
    }

    #[test]
    fn errors_name_line_and_column() {
        let (l, c, r) = err("Hello <shout>there</shout>");
        assert_eq!((l, c), (1, 7), "{r}");
        assert!(r.contains("unknown tag <shout>"), "{r}");
        let (l, c, r) = err("Hello\nthere <prosody speed=\"fast\">x</prosody>");
        assert_eq!((l, c), (2, 16), "{r}");
        assert!(r.contains("no attribute `speed`"), "{r}");
        let (l, c, r) = err("<speak>a <break time=\"loud\"/></speak>");
        assert_eq!((l, c), (1, 23), "{r}");
        assert!(r.contains("not a time"), "{r}");
        let (_, _, r) = err("a <style alpha=\"1\">x</style>");
        assert!(r.contains("needs a `name`"), "{r}");
        let (_, _, r) = err("a <emphasis>x</prosody>");
        assert!(r.contains("prosody"), "{r}");
        // The <speak> a plain line is wrapped in is not the user's: errors name their own tags.
        let (l, c, r) = err("a <emphasis><emphasis>x</emphasis>");
        assert_eq!((l, c, r.as_str()), (1, 35, "<emphasis> is never closed"));
        let (l, c, r) = err("a x</emphasis>");
        assert_eq!((l, c, r.as_str()), (1, 4, "</emphasis> closes no open tag"));
        let (_, _, r) = err("a <break time=\"1s\"/> & b");
        assert!(!r.is_empty());
        let (_, _, r) = err("<speak><phoneme ph=\"a\"><break/></phoneme></speak>");
        assert!(r.contains("only text"), "{r}");
        let (_, _, r) = err("<speak><phoneme alphabet=\"x-sampa\" ph=\"a\">a</phoneme></speak>");
        assert!(r.contains("only `ipa`"), "{r}");
        let (l, c, r) = err("<html>hi</html>");
        assert!(r.contains("unknown tag <html>") && (l, c) == (1, 1), "{l}:{c} {r}");
    }
}
