import AyumiCore

/// What conditions are judged on: the event, the resident and the local facts of the event's day.
struct Facts {
    let event: Event
    /// Who reported the event (nil for a draw's eligibility, which judges no event).
    let submitter: Submitter?
    let resident: Resident
    let date: LocalDate
    /// Local minutes after midnight of a tap or visit (a walk is a whole day: nil).
    let minutes: Int?
    let holiday: Bool

    /// The first predicate of `condition` that does not hold (an `any` none of whose branches
    /// holds, a `not` whose inner condition holds), or nil when the condition holds.
    func failure(of condition: Condition) -> Condition? {
        switch condition {
        case .all(let conditions):
            for inner in conditions { if let failed = failure(of: inner) { return failed } }
            return nil
        case .any(let conditions):
            return conditions.contains { failure(of: $0) == nil } ? nil : condition
        case .not(let inner):
            return failure(of: inner) == nil ? condition : nil
        default:
            return holds(condition) ? nil : condition
        }
    }

    private func holds(_ condition: Condition) -> Bool {
        switch (condition, event.detail) {
        case (.steps(let min, let max), .walk(_, let steps, _)): return Self.within(steps, min, max)
        case (.mode(let list), .transitTap(_, let mode, _, _)): return list.contains(mode)
        case (.route(let list), .transitTap(_, _, let route, _)): return list.contains(route)
        case (.stop(let list), .transitTap(_, _, _, let stop)): return list.contains(stop)
        case (.transitOperator(let list), .transitTap):
            guard case .feed(let name)? = submitter else { return false }
            return list.contains(name)
        case (.zone(let list), .visit(_, let zone)): return list.contains(zone)
        case (.time(let from, let to), _):
            guard let minutes else { return false }
            return from <= to ? (from..<to).contains(minutes) : minutes >= from || minutes < to
        case (.days(let kinds), _):
            let weekend = date.weekday == 0 || date.weekday == 6
            return kinds.contains { kind in
                switch kind {
                case .weekday: !weekend && !holiday
                case .weekend: weekend
                case .holiday: holiday
                }
            }
        case (.dates(let from, let to), _): return from.map { $0 <= date } ?? true && to.map { date <= $0 } ?? true
        case (.age(let min, let max), _): return Self.within(Int64(date.year - resident.birthYear), min.map(Int64.init), max.map(Int64.init))
        case (.district(let list), _): return list.contains(resident.district)
        case (.enrolledDays(let min, let max), _):
            return Self.within(Int64(date.dayNumber - resident.enrolledOn.dayNumber), min.map(Int64.init), max.map(Int64.init))
        case (.tags(let list), _): return list.contains { resident.tags.contains($0) }
        case (.consent(let list), _): return list.allSatisfy { resident.consents.contains($0) }
        default: return false
        }
    }

    private static func within(_ value: Int64, _ min: Int64?, _ max: Int64?) -> Bool {
        min.map { value >= $0 } ?? true && max.map { value <= $0 } ?? true
    }
}

extension Condition {
    /// What the condition asks, in words: the end of "No points: Walking needs …" and of
    /// `rules explain`.
    public var text: LocalizedText {
        func list(_ values: [String]) -> String { values.joined(separator: ", ") }
        func range(_ min: Int64?, _ max: Int64?, unit: LocalizedText) -> LocalizedText {
            switch (min, max) {
            case (let min?, let max?): LocalizedText(ja: "\(grouped(min))〜\(grouped(max))\(unit.ja)", en: "\(grouped(min)) to \(grouped(max)) \(unit.en)")
            case (let min?, nil): LocalizedText(ja: "\(grouped(min))\(unit.ja)以上", en: "at least \(grouped(min)) \(unit.en)")
            case (nil, let max?): LocalizedText(ja: "\(grouped(max))\(unit.ja)以下", en: "at most \(grouped(max)) \(unit.en)")
            case (nil, nil): LocalizedText(ja: "制限なし", en: "any number of \(unit.en)")
            }
        }
        func clock(_ minutes: Int) -> String {
            let hours = minutes / 60, rest = minutes % 60
            return (hours < 10 ? "0" : "") + "\(hours):" + (rest < 10 ? "0" : "") + "\(rest)"
        }
        switch self {
        case .all(let conditions):
            let texts = conditions.map(\.text)
            return LocalizedText(ja: texts.map(\.ja).joined(separator: "かつ"), en: texts.map(\.en).joined(separator: " and "))
        case .any(let conditions):
            let texts = conditions.map(\.text)
            return LocalizedText(ja: "次のいずれか: " + texts.map(\.ja).joined(separator: "、"),
                                 en: "one of: " + texts.map(\.en).joined(separator: "; "))
        case .not(let inner):
            let text = inner.text
            return LocalizedText(ja: "「\(text.ja)」以外", en: "not \(text.en)")
        case .steps(let min, let max):
            let text = range(min, max, unit: LocalizedText(ja: "歩", en: "steps"))
            return LocalizedText(ja: "1日\(text.ja)", en: "\(text.en) in the day")
        case .mode(let values): return LocalizedText(ja: "交通手段 \(list(values))", en: "a ride by \(list(values))")
        case .route(let values): return LocalizedText(ja: "路線 \(list(values))", en: "a ride on route \(list(values))")
        case .stop(let values): return LocalizedText(ja: "停留所・駅 \(list(values))", en: "a tap at stop \(list(values))")
        case .transitOperator(let values): return LocalizedText(ja: "事業者 \(list(values))", en: "a ride with operator \(list(values))")
        case .zone(let values): return LocalizedText(ja: "ゾーン \(list(values))", en: "a visit to zone \(list(values))")
        case .time(let from, let to):
            return LocalizedText(ja: "\(clock(from))〜\(clock(to))の時間帯", en: "a time between \(clock(from)) and \(clock(to))")
        case .days(let kinds):
            let ja = kinds.map { switch $0 { case .weekday: "平日"; case .weekend: "土日"; case .holiday: "祝日" } }
            return LocalizedText(ja: ja.joined(separator: "・"), en: "a " + kinds.map(\.rawValue).joined(separator: " or "))
        case .dates(let from, let to):
            return LocalizedText(ja: "\(from?.description ?? "")〜\(to?.description ?? "")の期間",
                                 en: "a date from \(from?.description ?? "the start") to \(to?.description ?? "the end")")
        case .age(let min, let max):
            let text = range(min.map(Int64.init), max.map(Int64.init), unit: LocalizedText(ja: "歳", en: "years of age"))
            return LocalizedText(ja: "年齢\(text.ja)", en: text.en)
        case .district(let values): return LocalizedText(ja: "地区 \(list(values))", en: "a resident of district \(list(values))")
        case .tags(let values): return LocalizedText(ja: "タグ \(list(values))", en: "a resident tagged \(list(values))")
        case .consent(let values): return LocalizedText(ja: "同意 \(list(values))", en: "the resident's consent to \(list(values))")
        case .enrolledDays(let min, let max):
            let text = range(min.map(Int64.init), max.map(Int64.init), unit: LocalizedText(ja: "日", en: "days"))
            return LocalizedText(ja: "登録から\(text.ja)", en: "\(text.en) since enrolment")
        }
    }
}
