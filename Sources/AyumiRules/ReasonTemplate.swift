/// A rule's reason text with `{name}` slots, split once when the rules load: rendering it per
/// award by search-and-replace cost more than the whole ledger write of an event.
struct ReasonTemplate: Sendable {
    enum Segment: Sendable {
        case text(String)
        case value(String)
    }

    let segments: [Segment]

    init(_ template: String) {
        var segments: [Segment] = []
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            if open > rest.startIndex { segments.append(.text(String(rest[..<open]))) }
            segments.append(.value(String(rest[rest.index(after: open)..<close])))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { segments.append(.text(String(rest))) }
        self.segments = segments
    }

    /// Unknown slot names are kept as written, so a typo shows in the text instead of vanishing.
    func render(_ value: (String) -> String?) -> String {
        var result = ""
        for segment in segments {
            switch segment {
            case .text(let text): result += text
            case .value(let key): result += value(key) ?? "{\(key)}"
            }
        }
        return result
    }
}
