import AyumiCore

/// A rule's reason text with `{name}` slots, split once when the rules load: rendering it per
/// award by search-and-replace cost more than the whole ledger write of an event.
struct ReasonTemplate: Sendable {
    enum Slot: Sendable {
        case date, points, steps, mode, route, stop, zone, zoneName
        /// Not a slot Ayumi knows: kept as written, so a typo shows in the text instead of vanishing.
        case unknown(String)

        init(_ name: String) {
            self = switch name {
            case "date": .date
            case "points": .points
            case "steps": .steps
            case "mode": .mode
            case "route": .route
            case "stop": .stop
            case "zone": .zone
            case "zoneName": .zoneName
            default: .unknown(name)
            }
        }
    }

    enum Segment: Sendable {
        case text(String)
        case value(Slot)
    }

    let segments: [Segment]
    /// The bytes of the fixed text: what a rendering reserves, with room for the values.
    let textBytes: Int

    init(_ template: String) {
        var segments: [Segment] = []
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            if open > rest.startIndex { segments.append(.text(String(rest[..<open]))) }
            segments.append(.value(Slot(String(rest[rest.index(after: open)..<close]))))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { segments.append(.text(String(rest))) }
        self.segments = segments
        self.textBytes = template.utf8.count
    }

    /// A reason in both languages from an award's facts: what the evaluator says when it awards, and
    /// what history says later from the same rule's templates in the version that made the award.
    static func render(ja: ReasonTemplate, en: ReasonTemplate, detail: Event.Detail, date: LocalDate, points: Int64,
                       zoneName: (String) -> LocalizedText?) -> LocalizedText {
        LocalizedText(ja: ja.render(detail: detail, date: date, points: points, language: .ja, zoneName: zoneName),
                      en: en.render(detail: detail, date: date, points: points, language: .en, zoneName: zoneName))
    }

    func render(detail: Event.Detail, date: LocalDate, points: Int64, language: Language, zoneName: (String) -> LocalizedText?) -> String {
        var result = ""
        result.reserveCapacity(textBytes + 32)
        for segment in segments {
            switch segment {
            case .text(let text): result += text
            case .value(let slot):
                switch (slot, detail) {
                case (.date, _): result += date.description
                case (.points, _): result += String(points)
                case (.steps, .walk(_, let steps, _)): result += String(steps)
                case (.mode, .transitTap(_, let mode, _, _)): result += mode
                case (.route, .transitTap(_, _, let route, _)): result += route
                case (.stop, .transitTap(_, _, _, let stop)): result += stop
                case (.zone, .visit(_, let zone)): result += zone
                case (.zoneName, .visit(_, let zone)): result += zoneName(zone)?.text(language) ?? "{zoneName}"
                case (.unknown(let name), _): result += "{\(name)}"
                case (.steps, _): result += "{steps}"
                case (.mode, _): result += "{mode}"
                case (.route, _): result += "{route}"
                case (.stop, _): result += "{stop}"
                case (.zone, _): result += "{zone}"
                case (.zoneName, _): result += "{zoneName}"
                }
            }
        }
        return result
    }
}
