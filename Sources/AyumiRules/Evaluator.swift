import AyumiCore
import Foundation

/// The rules engine. Pure: the clock reading (`now`) and the counters are passed in, so a disputed
/// day replays exactly and a backtest can run the same code over past events.
public struct Evaluator: Sendable {
    public let ruleset: Ruleset
    public let timeZone: TimeZone
    /// Events stamped later than `now` plus this are rejected (device clocks drift a little).
    public static let clockSkewSecondsMax: TimeInterval = 300

    /// The same explainer history uses for past awards, so a reason reads the same now and later.
    let explainer: ReasonExplainer

    public init(ruleset: Ruleset) {
        self.ruleset = ruleset
        self.timeZone = TimeZone(identifier: ruleset.program.timeZone)!
        self.explainer = ReasonExplainer(ruleset: ruleset)
    }

    /// Counter keys the evaluation of `event` reads; the store loads exactly these.
    public func counterKeys(for event: Event) -> [CounterKey] {
        let period = event.localDate(in: timeZone).dayNumber
        return ruleset.rules.filter { $0.event == event.kind }.map {
            CounterKey(residentID: event.residentID, ruleID: $0.id, period: period)
        }
    }

    public func evaluate(_ event: Event, from submitter: Submitter, resident: Resident, counters: [CounterKey: Counter],
                         now: Date) -> Evaluation {
        let date = event.localDate(in: timeZone)
        if let rejection = rejection(event, from: submitter, resident: resident, date: date, now: now) {
            return Evaluation(outcome: .rejected(rejection))
        }
        var awards: [Award] = []
        var capped = false
        var belowMinimum = false
        let period = date.dayNumber
        for rule in ruleset.rules where rule.event == event.kind && matches(rule, event) {
            let counter = counters[CounterKey(residentID: event.residentID, ruleID: rule.id, period: period)] ?? .zero
            if case .walk(_, let steps, _) = event.detail, let stepsMin = rule.stepsMin, steps < stepsMin {
                belowMinimum = true
                continue
            }
            let points = points(rule, event: event, counter: counter)
            guard points > 0 else {
                capped = capped || counter.points > 0 || counter.count > 0
                continue
            }
            let weights = rule.funding.map(\.weight)
            let tieBreak = rule.funding.map { stableHash(event.id + "\u{0}" + $0.sponsorID) }
            let parts = largestRemainderSplit(points: points, weights: weights, tieBreak: tieBreak)
            let funding = zip(rule.funding, parts).filter { $0.1 > 0 }.map { SponsorShare(sponsorID: $0.0.sponsorID, points: $0.1) }
            // A banded walk is paid the difference to the day's total it reached: that total bounds the
            // counter, guarded in the store's statement like a cap, so two walks judged at once from
            // the same earlier read (a store whose transactions interleave) cannot both be paid.
            let pointsMax = if case .perBand = rule.points { counter.points + points } else { rule.pointsPerDayMax }
            awards.append(Award(ruleID: rule.id, rulesetVersion: ruleset.version, points: points, funding: funding,
                                reason: reason(rule, event: event, date: date, points: points), period: period,
                                limit: CounterLimit(pointsMax: pointsMax, countMax: rule.countPerDayMax)))
        }
        let note: LocalizedText? = if !awards.isEmpty {
            nil
        } else if capped {
            LocalizedText(ja: "本日の上限に達しているため、ポイントは付与されません", en: "No points: today's limit for this activity is already reached")
        } else if belowMinimum {
            LocalizedText(ja: "歩数が最低歩数に達していないため、ポイントは付与されません", en: "No points: fewer steps than the minimum")
        } else {
            LocalizedText(ja: "該当するルールがないため、ポイントは付与されません", en: "No points: no rule applies to this event")
        }
        return Evaluation(outcome: .accepted(awards: awards, note: note))
    }

    /// Events that cannot be true, or may not earn: they are answered `rejected` and change nothing.
    /// Why `submitter` may not report events of `kind`; nil when it may.
    public func refusal(of kind: Event.Kind, from submitter: Submitter) -> LocalizedText? {
        guard !ruleset.program.permits(kind, from: submitter) else { return nil }
        let permissions = ruleset.program.submitters[kind.rawValue] ?? []
        let allowed = permissions.isEmpty ? "-" : permissions.map(\.description).joined(separator: ", ")
        return LocalizedText(ja: "この送信元（\(submitter.source)）からは\(kind.rawValue)イベントを受け付けていません（受付: \(allowed)）",
                             en: "\(kind.rawValue) events are not accepted from \(submitter.source) (accepted from: \(allowed))")
    }

    func rejection(_ event: Event, from submitter: Submitter, resident: Resident, date: LocalDate, now: Date) -> LocalizedText? {
        if let refusal = refusal(of: event.kind, from: submitter) { return refusal }
        let today = LocalDate(instant: now, timeZone: timeZone)
        switch event.detail {
        case .walk(_, let steps, _):
            if steps > ruleset.program.stepsPerDayMax {
                return LocalizedText(ja: "1日の歩数が上限（\(ruleset.program.stepsPerDayMax)歩）を超えています",
                                     en: "More steps than the daily maximum of \(ruleset.program.stepsPerDayMax)")
            }
            if date > today {
                return LocalizedText(ja: "未来の日付の歩数です", en: "The day has not begun yet in the program's time zone")
            }
        case .transitTap(let at, _, _, _), .visit(let at, _):
            if at.timeIntervalSince(now) > Self.clockSkewSecondsMax {
                return LocalizedText(ja: "未来の時刻のイベントです", en: "The event is stamped in the future")
            }
        }
        if case .visit(_, let zone) = event.detail, ruleset.zone(zone) == nil {
            return LocalizedText(ja: "不明なゾーン「\(zone)」です", en: "Unknown zone '\(zone)'")
        }
        if date < resident.enrolledOn {
            return LocalizedText(ja: "登録日より前の活動は対象外です", en: "The activity happened before enrolment")
        }
        if date.dayNumber < today.dayNumber - ruleset.program.eventAgeDaysMax {
            return LocalizedText(ja: "\(ruleset.program.eventAgeDaysMax)日より前の活動は対象外です",
                                 en: "The activity is more than \(ruleset.program.eventAgeDaysMax) days old")
        }
        return nil
    }

    func matches(_ rule: EarningRule, _ event: Event) -> Bool {
        switch event.detail {
        case .walk: true
        case .transitTap(_, let mode, _, _): rule.modes.map { $0.contains(mode) } ?? true
        case .visit(_, let zone): rule.zones.map { $0.contains(zone) } ?? true
        }
    }

    /// Points still due under `rule` given what it already granted in the period. Banded walking is
    /// cumulative over the day: a second report of 8,000 steps after 4,000 yields 4 − 2 = 2 points.
    func points(_ rule: EarningRule, event: Event, counter: Counter) -> Int64 {
        if let countMax = rule.countPerDayMax, counter.count >= countMax { return 0 }
        var due: Int64
        switch (rule.points, event.detail) {
        case (.fixed(let points), _):
            due = points
        case (.perBand(let bandSteps, let bandPoints), .walk(_, let steps, _)):
            var dayTotal = steps / bandSteps * bandPoints
            if let dayMax = rule.pointsPerDayMax { dayTotal = min(dayTotal, dayMax) }
            due = dayTotal - counter.points
        case (.perBand, _):
            preconditionFailure("the parser allows perBand on walk rules only")
        }
        if let dayMax = rule.pointsPerDayMax { due = min(due, dayMax - counter.points) }
        return max(0, due)
    }

    func reason(_ rule: EarningRule, event: Event, date: LocalDate, points: Int64) -> LocalizedText {
        explainer.reason(ruleID: rule.id, detail: event.detail, date: date, points: points)!
    }
}
