import AyumiCore

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

    /// A reason in both languages from an award's facts: what the evaluator says when it awards, and
    /// what history says later from the same rule's templates in the version that made the award.
    static func render(ja: ReasonTemplate, en: ReasonTemplate, detail: Event.Detail, date: LocalDate, points: Int64,
                       zoneName: (String) -> LocalizedText?) -> LocalizedText {
        func value(_ key: String, _ language: Language) -> String? {
            switch (key, detail) {
            case ("date", _): date.description
            case ("points", _): String(points)
            case ("steps", .walk(_, let steps, _)): String(steps)
            case ("mode", .transitTap(_, let mode, _, _)): mode
            case ("route", .transitTap(_, _, let route, _)): route
            case ("stop", .transitTap(_, _, _, let stop)): stop
            case ("zone", .visit(_, let zone)): zone
            case ("zoneName", .visit(_, let zone)): zoneName(zone)?.text(language)
            default: nil
            }
        }
        return LocalizedText(ja: ja.render { value($0, .ja) }, en: en.render { value($0, .en) })
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
