/// The CSV files Ayumi writes (reports, settlements, the merchant registry): RFC 4180 fields, CRLF
/// line ends, and a byte order mark first, since Excel opens a UTF-8 file with Japanese names only
/// with one.
public enum CSVDocument {
    /// A field as RFC 4180 writes it: quoted when it holds a comma, a quote or a line break.
    public static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A text cell a spreadsheet must not run: one that begins like a formula (`=`, `+`, `-`, `@`, a
    /// tab or a carriage return) gets a leading apostrophe, and so does one that begins with an
    /// apostrophe, so that `restored` gives every cell back exactly (a file Ayumi exports imports back
    /// unchanged).
    public static func neutralised(_ text: String) -> String {
        guard let first = text.first, "=+-@\t\r'".contains(first) else { return text }
        return "'" + text
    }

    /// A cell as `neutralised` wrote it, given back: the apostrophe it added is dropped.
    public static func restored(_ text: String) -> String {
        guard text.hasPrefix("'"), let second = text.dropFirst().first, "=+-@\t\r'".contains(second) else { return text }
        return String(text.dropFirst())
    }

    /// The rows, each field quoted as it needs; an empty row is an empty line.
    public static func text(_ rows: [[String]]) -> String {
        "\u{FEFF}" + rows.map { $0.map(field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }
}
