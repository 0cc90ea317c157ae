import AyumiCore
import Foundation

/// One event as sources send it. Structure is checked here (a malformed event rejects the whole
/// request); meaning (known resident, plausible steps) is judged per event by the rules.
public struct EventInput: Decodable, Sendable {
    var id: String
    var kind: String
    var resident: String
    var date: String?
    var steps: Int64?
    var source: String?
    var at: String?
    var mode: String?
    var route: String?
    var stop: String?
    var zone: String?

    /// The event, or `AyumiError.invalidRequest` naming `events[index].FIELD`.
    public func event(index: Int) throws -> Event {
        func invalid(_ why: String) -> AyumiError { .invalidRequest("events[\(index)].\(why)") }
        func identifier(_ value: String?, _ name: String) throws -> String {
            guard let value else { throw invalid("\(name) is required for \(kind) events") }
            guard Identifier.isValid(value) else { throw invalid("\(name): 1-64 letters, digits or -_.:") }
            return value
        }
        func instant() throws -> Date {
            guard let at else { throw invalid("at is required for \(kind) events") }
            guard let date = try? Date(at, strategy: .iso8601) else { throw invalid("at: an RFC 3339 time with offset, such as 2026-11-25T08:10:00+09:00") }
            return date
        }
        _ = try identifier(id, "id")
        _ = try identifier(resident, "resident")
        let detail: Event.Detail
        switch Event.Kind(rawValue: kind) {
        case .walk:
            guard let text = date, let day = LocalDate(text) else { throw invalid("date: a local day as YYYY-MM-DD") }
            guard let steps, steps >= 0 else { throw invalid("steps: a whole number of steps, 0 or more") }
            detail = .walk(date: day, steps: steps, source: try identifier(source ?? "unknown", "source"))
        case .transitTap:
            detail = .transitTap(at: try instant(), mode: try identifier(mode, "mode"), route: try identifier(route, "route"),
                                 stop: try identifier(stop, "stop"))
        case .visit:
            detail = .visit(at: try instant(), zone: try identifier(zone, "zone"))
        case nil:
            throw invalid("kind: one of walk, transit_tap, visit")
        }
        return Event(id: id, residentID: resident, detail: detail)
    }
}

