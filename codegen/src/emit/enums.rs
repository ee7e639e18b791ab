//! The open string enums, written as `open_enum!` invocations.

use crate::model::OpenEnum;

/// An open enum: its values and docs, the rest from `open_enum!`. Written
/// as text: prettyplease prints a macro's input as one run of tokens.
pub(super) fn open_enum(item: &OpenEnum) -> String {
    let mut out = String::from("::icr_webhooks::__private::open_enum! {\n");
    doc_lines(&mut out, "    ", item.doc.as_deref());
    out.push_str(&format!("    pub enum {} {{\n", item.name));
    for (value, ident) in item.values.iter().zip(&item.idents) {
        out.push_str(&format!(
            "        /// `{value}`\n        {ident} = {value:?},\n"
        ));
    }
    out.push_str("    }\n}\n");
    out
}

/// `doc` as `///` lines at `indent`.
fn doc_lines(out: &mut String, indent: &str, doc: Option<&str>) {
    for line in doc.unwrap_or_default().lines() {
        out.push_str(indent);
        out.push_str("///");
        if !line.is_empty() {
            out.push(' ');
            out.push_str(line);
        }
        out.push('\n');
    }
}
