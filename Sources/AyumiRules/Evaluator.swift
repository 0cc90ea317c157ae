import AyumiCore
import Foundation

/// The rules engine. Pure: the clock reading (`now`) and the counters are passed in, so a disputed
/// day replays exactly and a backtest can run the same code over past events.
///
/// For each rule of the event's trigger: the condition tree, then the points formula (for a walk,
/// the day's total under the formula less what the rule already paid that day), then every limit
/// in turn (a limit reduces an award, and says so in its reason), then the `pick: best` groups,
/// then the funding split carried from the rule's earlier awards. The result names every counter
/// change with the bound the store must check as it applies it.
public struct Evaluator: Sendable {
    public let ruleset: Ruleset
    public let timeZone: TimeZone
    /// Events stamped later than `now` plus this are rejected (device clocks drift a little).
    public static let clockSkewSecondsMax: TimeInterval = 300

    /// The same explainer history uses for past awards, so a reason reads the same now and later.
    let explainer: ReasonExplainer
    let holidayDays: Set<Int>
    /// The rules, by trigger (`Event.Kind.allCases` order), in file order.
    let rulesByTrigger: [[CompiledRule]]
    let hasGroups: Bool
    let campaignsByID: [String: Campaign]
    /// Every sponsor's budgets, in the order of `sponsors.yaml`: an award reduced by a budget keeps
    /// its position here (as `cappedBy` −1 − position).
    let budgets: [SponsorBudget]

    /// One budget of one sponsor.
    public struct SponsorBudget: Sendable {
        public let sponsorID: String
        public let sponsorName: LocalizedText
        public let budget: Budget
        /// Its position among all the program's budgets.
        public let position: Int
        var counterName: String { "budget/" + budget.period.rawValue }
    }
    /// The zone's offset from UTC when it has had no daylight saving time since 1970 (Tokyo): a
    /// day and a time of day are then arithmetic, not a time zone database lookup per event.
    let fixedOffset: Int64?
    /// Who may report each kind (`Event.Kind.allCases` order).
    let permissions: [[SubmitterPermission]]

    public init(ruleset: Ruleset) {
        self.ruleset = ruleset
        self.timeZone = TimeZone(identifier: ruleset.program.timeZone)!
        self.explainer = ReasonExplainer(ruleset: ruleset)
        self.holidayDays = Set(ruleset.holidays.map(\.date.dayNumber))
        let compiled = ruleset.rules.map { rule in
            CompiledRule(rule, campaigns: ruleset.campaigns, budgets: rule.funding.map { share in
                var position = 0
                var found: [SponsorBudget] = []
                for sponsor in ruleset.sponsors {
                    for budget in sponsor.budgets {
                        if sponsor.id == share.sponsorID {
                            found.append(SponsorBudget(sponsorID: sponsor.id, sponsorName: sponsor.name, budget: budget, position: position))
                        }
                        position += 1
                    }
                }
                return found
            })
        }
        self.rulesByTrigger = Event.Kind.allCases.map { kind in compiled.filter { $0.trigger == kind } }
        self.hasGroups = ruleset.rules.contains { $0.group != nil }
        self.campaignsByID = Dictionary(ruleset.campaigns.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var budgets: [SponsorBudget] = []
        for sponsor in ruleset.sponsors {
            for budget in sponsor.budgets {
                budgets.append(SponsorBudget(sponsorID: sponsor.id, sponsorName: sponsor.name, budget: budget, position: budgets.count))
            }
        }
        self.budgets = budgets
        self.admitted = Admitted(version: ruleset.version, budgets: Dictionary(grouping: budgets, by: \.sponsorID))
        let timeZone = self.timeZone
        self.fixedOffset = timeZone.nextDaylightSavingTimeTransition(after: Date(timeIntervalSince1970: 0)) == nil
            ? Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: 0))) : nil
        self.permissions = Event.Kind.allCases.map { ruleset.program.submitters[$0.rawValue] ?? [] }
    }

    /// The local day number of `instant`, without building its date.
    func dayNumber(_ instant: Date) -> Int {
        let seconds = localSeconds(instant)
        return Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
    }

    /// Seconds since 1970 of `instant` on the local clock.
    func localSeconds(_ instant: Date) -> Int64 {
        Int64(instant.timeIntervalSince1970.rounded(.down)) + (fixedOffset ?? Int64(timeZone.secondsFromGMT(for: instant)))
    }

    /// When an event happened, for choosing the ruleset in force: a tap's or visit's instant, the
    /// last millisecond of a walk's local day (a day's steps are judged by the rules in force at its
    /// end, so rules put in force during a day apply to that day's walks).
    public func instant(of event: Event) -> Date {
        switch event.detail {
        case .walk(let date, _, _):
            let nextMidnight = Date(timeIntervalSince1970: Double(date.dayNumber + 1) * 86_400)
            return nextMidnight.addingTimeInterval(-Double(fixedOffset ?? Int64(timeZone.secondsFromGMT(for: nextMidnight))) - 0.001)
        case .transitTap(let at, _, _, _), .visit(let at, _): return at
        }
    }

    /// The local day of an event (a walk names its day; a tap or visit is stamped).
    public func localDate(of event: Event) -> LocalDate {
        switch event.detail {
        case .walk(let date, _, _): date
        case .transitTap(let at, _, _, _), .visit(let at, _): LocalDate(localSeconds: localSeconds(at))
        }
    }

    /// A rule as the evaluator reads it: one reference per rule (a struct of arrays and strings
    /// copied per event cost more than judging it), with its counter names made once.
    public final class CompiledRule: Sendable {
        public let id: String
        public let name: LocalizedText
        let trigger: Event.Kind
        let group: String?
        let condition: Condition
        let points: EarningRule.Points
        let limits: [Limit]
        let funding: [FundingWeight]
        let weights: [Int64]
        /// The name of a walk rule's daily counter: what was paid for the day's steps. Rules of one
        /// `pick: best` group share it, so a later report of the day pays the difference to the
        /// best total once, not each rule of the group its own.
        let dayName: String
        /// Per limit: its counter's name (the rule id for a day, `rule/week`, …).
        let limitNames: [String]
        /// The name of the funding counters (nil for a rule funded by one sponsor). The weights are
        /// part of it: when a new version changes them, the carry starts afresh.
        let splitName: String?
        /// Per funding share, the budgets of its sponsor (empty for most).
        let budgets: [[SponsorBudget]]
        let hasBudgets: Bool

        /// The campaigns that multiply this rule's points.
        let campaigns: [Campaign]
        let pendingDays: Int
        let computed: EarningRule.Computed?

        /// The percentage this rule pays on `date`: the largest of the campaigns covering it.
        func percent(on date: LocalDate) -> Int64? {
            guard !campaigns.isEmpty else { return nil }
            return campaigns.lazy.filter { $0.covers(date) }.map(\.percent).max()
        }

        init(_ rule: EarningRule, campaigns: [Campaign], budgets: [[SponsorBudget]]) {
            self.budgets = budgets
            hasBudgets = budgets.contains { !$0.isEmpty }
            id = rule.id
            name = rule.name
            trigger = rule.trigger
            group = rule.group
            condition = rule.condition
            points = rule.points
            limits = rule.limits
            funding = rule.funding
            weights = rule.funding.map(\.weight)
            dayName = rule.group.map { "group:" + $0 } ?? rule.id
            limitNames = rule.limits.map { limit in
                switch limit.period {
                case .day: rule.id
                // With the campaign's first day: a campaign id used again next year counts afresh.
                case .campaign: rule.id + "/campaign:" + (limit.campaign ?? "") + ":" + (campaigns.first { $0.id == limit.campaign }?.from.description ?? "")
                default: rule.id + "/" + limit.period.rawValue
                }
            }
            self.campaigns = campaigns.filter { $0.rules.contains(rule.id) }
            pendingDays = rule.pendingDays
            computed = rule.computed
            splitName = rule.funding.count < 2 ? nil
                : "\(rule.id)/split:" + rule.funding.map { "\($0.sponsorID)=\($0.weight)" }.joined(separator: ":")
        }
    }

    func rules(for kind: Event.Kind) -> [CompiledRule] {
        switch kind {
        case .walk: rulesByTrigger[0]
        case .transitTap: rulesByTrigger[1]
        case .visit: rulesByTrigger[2]
        }
    }

    /// Counter keys the evaluation of `event` at `now` reads; the store loads exactly these.
    /// `admitted` as for `evaluate`: the budgets of the ruleset in force now.
    public func counterKeys(for event: Event, now: Date, admitted: Admitted? = nil) -> [CounterKey] {
        let paidOn = LocalDate(localSeconds: localSeconds(now))
        let budgetsNow = admitted.flatMap { $0.version == ruleset.version ? nil : $0 }
        let date = localDate(of: event)
        var keys: [CounterKey] = []
        for rule in rules(for: event.kind) {
            if let computed = rule.computed {
                keys += progressKeys(rule, computed, residentID: event.residentID, date: date)
            } else if rule.trigger == .walk {
                keys.append(dayKey(rule, residentID: event.residentID, date: date))
            }
            for position in rule.limits.indices where applies(rule.limits[position], on: date) {
                keys.append(key(rule, position, residentID: event.residentID, date: date))
            }
            if let name = rule.splitName {
                for share in rule.funding { keys.append(CounterKey(subject: .sponsor(share.sponsorID), name: name, period: 0)) }
            }
            let budgets = budgetsNow.map { now in rule.funding.flatMap { now.budgets[$0.sponsorID] ?? [] } } ?? Array(rule.budgets.joined())
            for budget in budgets {
                keys.append(budgetKey(budget, date: paidOn))
                // `pend` pays from the next period: every budget of the rule is read there too.
                if budget.budget.onExhausted == .pend {
                    let next = Self.nextPeriod(budget.budget.period, after: paidOn)
                    for other in budgets { keys.append(budgetKey(other, date: next)) }
                }
            }
        }
        return keys
    }

    /// What one rule would do for one event, before groups pick among rules.
    struct Candidate {
        var rule: CompiledRule
        var points: Int64
        var cappedBy: Int?
        /// A walk whose day already earned under the rule: counts in a `count` limit once a day.
        var countsAgain = false
    }

    /// What the rules decide for one event, before anything is worded: the awards with their
    /// funding and the counter changes, or why there is none. A backtest needs no more; `evaluate`
    /// words it for the resident.
    public struct Decision: Sendable {
        public struct Decided: Sendable {
            let rule: CompiledRule
            public var ruleID: String { rule.id }
            public var points: Int64
            public var funding: [SponsorShare]
            /// The position, in the rule's limits, of the limit that reduced the award.
            public var cappedBy: Int?
            /// Days from the event's day to the first day the points may be spent (0: at once): the
            /// rule's `pendingDays`, or longer when a budget with `onExhausted: pend` holds them.
            public var pendingDays: Int
        }

        public enum Outcome: Sendable {
            case accepted([Decided], why: NoAward)
            case rejected(LocalizedText)
        }

        public var outcome: Outcome
        public var deltas: [CounterDelta]
        public let date: LocalDate
    }

    /// - Parameter admitted: set when the ruleset in force now has admitted the event (`admission`:
    ///   who sent it, how late) and its sponsors' budgets apply, whichever ruleset judges the rest;
    ///   nil: this ruleset judges all of it.
    public func evaluate(_ event: Event, from submitter: Submitter, resident: Resident, counters: [CounterKey: Counter],
                         now: Date, admitted: Admitted? = nil) -> Evaluation {
        let decision = decide(event, from: submitter, resident: resident, counters: counters, now: now, admitted: admitted)
        switch decision.outcome {
        case .rejected(let reason):
            return Evaluation(outcome: .rejected(reason))
        case .accepted(let decided, let why) where decided.isEmpty:
            return Evaluation(outcome: .accepted(awards: [], note: note(why)), deltas: decision.deltas)
        case .accepted(let decided, _):
            let awards = decided.map { award in
                Award(ruleID: award.rule.id, rulesetVersion: ruleset.version, points: award.points, funding: award.funding,
                      reason: explainer.reason(ruleID: award.rule.id, detail: event.detail, date: decision.date, points: award.points,
                                               cappedBy: award.cappedBy)!,
                      cappedBy: award.cappedBy,
                      availableOn: award.pendingDays > 0 ? LocalDate(dayNumber: decision.date.dayNumber + award.pendingDays) : nil)
            }
            return Evaluation(outcome: .accepted(awards: awards, note: nil), deltas: decision.deltas)
        }
    }

    public func decide(_ event: Event, from submitter: Submitter, resident: Resident, counters: [CounterKey: Counter],
                       now: Date, admitted: Admitted? = nil) -> Decision {
        var trace = NoTrace()
        return decide(event, from: submitter, resident: resident, counters: counters, now: now, admitted: admitted, trace: &trace)
    }

    /// What judging one event gathers as it goes through the rules: why nothing was awarded so far,
    /// the counter changes, and what earlier awards of the event took of each budget.
    struct Judging {
        var why = NoAward.noRule
        var deltas: [CounterDelta] = []
        var spent: [CounterKey: Int64] = [:]
    }

    /// `decide`, telling `trace` what became of each rule (specialised away when nobody listens).
    func decide<Trace: DecisionTrace>(_ event: Event, from submitter: Submitter, resident: Resident, counters: [CounterKey: Counter],
                                      now: Date, admitted: Admitted?, trace: inout Trace) -> Decision {
        let date = localDate(of: event)
        if let rejection = rejection(event, from: submitter, resident: resident, date: date, now: now, admitted: admitted != nil) {
            return Decision(outcome: .rejected(rejection), deltas: [], date: date)
        }
        let facts = Facts(event: event, submitter: submitter, resident: resident, date: date, minutes: minutes(of: event), holiday: holidayDays.contains(date.dayNumber))
        var judging = Judging()
        var candidates: [Candidate] = []
        for rule in rules(for: event.kind) {
            if let candidate = candidate(rule, facts: facts, counters: counters, judging: &judging, trace: &trace) { candidates.append(candidate) }
        }
        let chosen = hasGroups ? pickBest(candidates) : candidates
        if chosen.count < candidates.count {
            for lost in candidates where !chosen.contains(where: { $0.rule === lost.rule }) {
                let winner = chosen.first { $0.rule.group == lost.rule.group }!
                trace.record(lost.rule, .lostInGroup(points: lost.points, winner: winner.rule.id))
            }
        }
        guard !chosen.isEmpty else { return Decision(outcome: .accepted([], why: judging.why), deltas: judging.deltas, date: date) }
        // The sponsors' budgets of the ruleset in force now, when another ruleset judges this event.
        let budgetsNow = admitted.flatMap { $0.version == ruleset.version ? nil : $0 }
        var awards: [Decision.Decided] = []
        for candidate in chosen {
            if let award = award(candidate, event: event, date: date, now: now, budgetsNow: budgetsNow, counters: counters,
                                 judging: &judging, trace: &trace) {
                awards.append(award)
            }
        }
        return Decision(outcome: .accepted(awards, why: judging.why), deltas: judging.deltas, date: date)
    }

    /// What one rule would award for the event before budgets and groups: its conditions, the points
    /// due (a walk's day total less what the day earned, a goal reached, a fixed amount, a campaign's
    /// percentage) and the resident's limits; nil, with the reason kept, when it awards nothing.
    /// Progress of streaks and milestones is counted whether or not they pay.
    @inline(__always)   // once per rule per event: the hot loop of the engine, kept as one body (a call per rule cost 5-9%)
    func candidate<Trace: DecisionTrace>(_ rule: CompiledRule, facts: Facts, counters: [CounterKey: Counter], judging: inout Judging,
                                         trace: inout Trace) -> Candidate? {
        let date = facts.date
        if let failed = facts.failure(of: rule.condition) {
            judging.why.keep(.condition(rule: rule, failed: failed))
            trace.record(rule, .conditionNotMet(failed))
            return nil
        }
        var due: Int64
        var countsAgain = false
        if let computed = rule.computed {
            let (reached, progress) = self.progress(rule, computed, event: facts.event, date: date, counters: counters)
            judging.deltas += progress
            guard reached > 0, case .fixed(let fixed) = rule.points else {
                judging.why.keep(.goalNotYet(rule: rule))
                trace.record(rule, .goalNotYet)
                return nil
            }
            due = (rule.percent(on: date).map { fixed * $0 / 100 } ?? fixed) * reached
        } else if rule.trigger == .walk, case .walk(_, let steps, _) = facts.event.detail {
            var total = rule.points.dayTotal(steps: steps)
            if let percent = rule.percent(on: date) { total = total * percent / 100 }
            guard total > 0 else {
                judging.why.keep(.nothingDue(rule: rule, steps: steps))
                trace.record(rule, .nothingDue)
                return nil
            }
            let day = counters[dayKey(rule, residentID: facts.event.residentID, date: date)] ?? .zero
            due = total - day.points
            countsAgain = day.count > 0
            guard due > 0 else {
                judging.why.keep(.alreadyPaid)
                trace.record(rule, .alreadyPaid(total: total))
                return nil
            }
        } else if case .fixed(let fixed) = rule.points {
            due = rule.percent(on: date).map { fixed * $0 / 100 } ?? fixed
        } else {
            preconditionFailure("the parser allows step formulas on walk rules only")
        }
        var cappedBy: Int?
        for (position, limit) in rule.limits.enumerated() where applies(limit, on: date) {
            let counter = counters[key(rule, position, residentID: facts.event.residentID, date: date)] ?? .zero
            let room = switch limit.metric {
            case .points: limit.max - counter.points
            case .count: countsAgain || counter.count < limit.max ? due : 0
            }
            if room < due {
                due = max(0, room)
                cappedBy = position
            }
        }
        guard due > 0 else {
            judging.why.keep(.limit(rule: rule, limit: cappedBy!))
            trace.record(rule, .limitReached(cappedBy!))
            return nil
        }
        return Candidate(rule: rule, points: due, cappedBy: cappedBy, countsAgain: countsAgain)
    }

    /// A chosen candidate as paid: split among its sponsors (carried splits included), fitted to the
    /// sponsors' budgets, with the counter changes it makes; nil, with the reason kept, when a budget
    /// cannot pay it.
    func award<Trace: DecisionTrace>(_ candidate: Candidate, event: Event, date: LocalDate, now: Date, budgetsNow: Admitted?,
                                     counters: [CounterKey: Counter], judging: inout Judging, trace: inout Trace) -> Decision.Decided? {
        let rule = candidate.rule
        var points = candidate.points
        var cappedBy = candidate.cappedBy
        var pendingDays = rule.pendingDays
        let splitKeys = rule.splitName.map { name in rule.funding.map { CounterKey(subject: .sponsor($0.sponsorID), name: name, period: 0) } }
        func split(_ points: Int64) -> [Int64] {
            guard let splitKeys else { return [points] }
            return carriedSplit(points: points, weights: rule.weights, funded: splitKeys.map { (counters[$0] ?? .zero).points })
        }
        var parts = split(points)
        if budgetsNow != nil || rule.hasBudgets {
            let ruleBudgets = budgetsNow.map { now in rule.funding.map { now.budgets[$0.sponsorID] ?? [] } } ?? rule.budgets
            // A budget is the sponsor's money per period of payment: a late event draws on this period's.
            let paidOn = LocalDate(localSeconds: localSeconds(now))
            switch fit(points, parts, to: ruleBudgets, split: split, budgetsNow: budgetsNow, paidOn: paidOn, counters: counters,
                       spent: judging.spent) {
            case .failure(let failure):
                judging.why.keep(.budget(failure.budget))
                trace.record(rule, .budgetSpent(failure.budget))
                return nil
            case .success(let fitted):
                (points, parts) = (fitted.points, fitted.parts)
                if let lowered = fitted.cappedBy { cappedBy = lowered }
                // Held by a `pend` budget: spendable from the day it is paid.
                if fitted.payDay != paidOn { pendingDays = max(pendingDays, fitted.payDay.dayNumber - date.dayNumber) }
                for (index, part) in parts.enumerated() where part > 0 {
                    for budget in ruleBudgets[index] {
                        let key = budgetKey(budget, date: fitted.payDay)
                        judging.spent[key, default: 0] += part
                        judging.deltas.append(CounterDelta(key: key, points: part, count: 1, pointsMax: budget.budget.points))
                    }
                }
            }
        }
        if let splitKeys {
            for (key, part) in zip(splitKeys, parts) where part > 0 { judging.deltas.append(CounterDelta(key: key, points: part, count: 1)) }
        }
        var funding: [SponsorShare] = []
        funding.reserveCapacity(parts.count)
        for (share, part) in zip(rule.funding, parts) where part > 0 { funding.append(SponsorShare(sponsorID: share.sponsorID, points: part)) }
        addLimitDeltas(rule, points: points, count: candidate.countsAgain ? 0 : 1, event: event, date: date, counters: counters, to: &judging.deltas)
        trace.record(rule, .awarded(points: points, funding: funding, cappedBy: cappedBy, pendingDays: pendingDays))
        return Decision.Decided(rule: rule, points: points, funding: funding, cappedBy: cappedBy, pendingDays: pendingDays)
    }

    /// An award fitted to its sponsors' budgets: the points and parts they can pay, the budget that
    /// lowered it (as `Award.cappedBy` names budgets), and the day it is paid on (a later one when a
    /// `pend` budget holds it).
    struct Fitted {
        var points: Int64
        var parts: [Int64]
        var cappedBy: Int?
        var payDay: LocalDate
    }

    struct BudgetFailure: Error {
        let budget: SponsorBudget
    }

    /// A budget that cannot pay its sponsor's share: `stop` drops the award, `scale` lowers it to the
    /// most every budget can still pay, `pend` holds the whole award for the budget's next period and
    /// pays it from that one. Fails with the budget that cannot pay.
    /// `budgetsNow`: the budgets of the ruleset in force now, when another judges the event.
    func fit(_ points: Int64, _ parts: [Int64], to budgets: [[SponsorBudget]], split: (Int64) -> [Int64], budgetsNow: Admitted?,
             paidOn: LocalDate, counters: [CounterKey: Counter], spent: [CounterKey: Int64]) -> Result<Fitted, BudgetFailure> {
        var fitted = Fitted(points: points, parts: parts, cappedBy: nil, payDay: paidOn)
        let capped = { (budget: SponsorBudget) in budgetsNow == nil ? -1 - budget.position : Award.cappedByBudgetOfAnotherVersion }
        var failing = overspent(budgets, parts, date: paidOn, counters: counters, spent: spent)
        // One sponsor: what is left of its tightest budget is the answer, without a search.
        if let budget = failing, budget.budget.onExhausted == .scale, budgets.count == 1 {
            // A `pend` budget holds the award rather than lowering it: it does not bound the scale.
            let left = budgets[0].filter { $0.budget.onExhausted != .pend }.map { budget in
                let key = budgetKey(budget, date: paidOn)
                return budget.budget.points - (counters[key] ?? .zero).points - spent[key, default: 0]
            }.min()!
            if left > 0 && left < fitted.points {
                (fitted.points, fitted.parts, fitted.cappedBy) = (left, [left], capped(budget))
                failing = overspent(budgets, fitted.parts, date: paidOn, counters: counters, spent: spent)
            }
        }
        while let budget = failing, budget.budget.onExhausted == .scale, fitted.points > 1 {
            fitted.points -= 1
            fitted.parts = split(fitted.points)
            fitted.cappedBy = capped(budget)
            failing = overspent(budgets, fitted.parts, date: paidOn, counters: counters, spent: spent)
        }
        if let budget = failing, budget.budget.onExhausted == .pend {
            let next = Self.nextPeriod(budget.budget.period, after: paidOn)
            if overspent(budgets, fitted.parts, date: next, counters: counters, spent: spent) == nil {
                fitted.payDay = next
                failing = nil
            }
        }
        if let budget = failing { return .failure(BudgetFailure(budget: budget)) }
        return .success(fitted)
    }

    /// The first budget that cannot pay its sponsor's part of `parts`, or nil when all can.
    func overspent(_ budgets: [[SponsorBudget]], _ parts: [Int64], date: LocalDate, counters: [CounterKey: Counter],
                   spent: [CounterKey: Int64]) -> SponsorBudget? {
        for (index, part) in parts.enumerated() where part > 0 {
            for budget in budgets[index] {
                let key = budgetKey(budget, date: date)
                if (counters[key] ?? .zero).points + spent[key, default: 0] + part > budget.budget.points { return budget }
            }
        }
        return nil
    }

    /// Rules stack, except within a group: there only the largest award stands (the first rule
    /// listed wins a tie).
    func pickBest(_ candidates: [Candidate]) -> [Candidate] {
        var best: [String: Int] = [:]
        for (position, candidate) in candidates.enumerated() {
            guard let group = candidate.rule.group else { continue }
            if let current = best[group], candidates[current].points >= candidate.points { continue }
            best[group] = position
        }
        return candidates.enumerated().filter { position, candidate in
            candidate.rule.group.map { best[$0] == position } ?? true
        }.map(\.element)
    }

    /// One delta per counter the award adds to, bounded by every limit kept in it. A walk's daily
    /// counter is bounded by the day's total it reached, so two walks judged at once from the same
    /// earlier read (a store whose transactions interleave) cannot both be paid. A walk counts once
    /// a day (`count` 0 for a later report of a day that already earned).
    func addLimitDeltas(_ rule: CompiledRule, points: Int64, count: Int64, event: Event, date: LocalDate, counters: [CounterKey: Counter],
                        to deltas: inout [CounterDelta]) {
        let first = deltas.count
        func bound(_ key: CounterKey, pointsMax: Int64?, countMax: Int64?) {
            if let index = deltas[first...].firstIndex(where: { $0.key == key }) {
                if let pointsMax { deltas[index].pointsMax = min(deltas[index].pointsMax ?? .max, pointsMax) }
                if let countMax { deltas[index].countMax = min(deltas[index].countMax ?? .max, countMax) }
            } else {
                deltas.append(CounterDelta(key: key, points: points, count: count, pointsMax: pointsMax, countMax: countMax))
            }
        }
        // A walk rule's day counter carries the walk difference; streaks and milestones keep their own.
        if rule.trigger == .walk, rule.computed == nil {
            let key = dayKey(rule, residentID: event.residentID, date: date)
            bound(key, pointsMax: (counters[key] ?? .zero).points + points, countMax: nil)
        }
        for (position, limit) in rule.limits.enumerated() where applies(limit, on: date) {
            let key = key(rule, position, residentID: event.residentID, date: date)
            bound(key, pointsMax: limit.metric == .points ? limit.max : nil, countMax: limit.metric == .count ? limit.max : nil)
        }
    }

    /// A resident's daily counter of a walk rule (or of its group): named by the rule id alone, as
    /// Ayumi has always kept it.
    func dayKey(_ rule: CompiledRule, residentID: String, date: LocalDate) -> CounterKey {
        CounterKey(subject: .resident(residentID), name: rule.dayName, period: date.dayNumber)
    }

    func key(_ rule: CompiledRule, _ position: Int, residentID: String, date: LocalDate) -> CounterKey {
        let limit = rule.limits[position], name = rule.limitNames[position]
        let subject: CounterKey.Subject = limit.scope == .resident ? .resident(residentID) : .program
        return CounterKey(subject: subject, name: name, period: Self.period(limit.period, of: date))
    }

    /// The counters a streak or milestone keeps for a resident.
    func progressKeys(_ rule: CompiledRule, _ computed: EarningRule.Computed, residentID: String, date: LocalDate) -> [CounterKey] {
        switch computed {
        case .streak: [CounterKey(subject: .resident(residentID), name: rule.id + "/streak", period: 0)]
        case .milestoneSteps: [CounterKey(subject: .resident(residentID), name: rule.id + "/steps", period: date.dayNumber),
                               CounterKey(subject: .resident(residentID), name: rule.id + "/total", period: 0)]
        case .milestoneRides: [CounterKey(subject: .resident(residentID), name: rule.id + "/total", period: 0)]
        }
    }

    /// How many times the event reaches the rule's goal (a report may pass several multiples of a
    /// milestone), and the counter changes its progress makes.
    /// A streak keeps (last qualifying day number + 1, run length): a walk of the next day extends
    /// the run, of a later day starts a new one, of a day already counted or an earlier one changes
    /// nothing. A step milestone counts each day at its largest report (the day's counter holds the
    /// steps counted so far); a ride milestone counts taps. Each change is guarded by the value it
    /// was computed from, so two events judged from one earlier read cannot both count.
    func progress(_ rule: CompiledRule, _ computed: EarningRule.Computed, event: Event, date: LocalDate,
                  counters: [CounterKey: Counter]) -> (reached: Int64, deltas: [CounterDelta]) {
        let keys = progressKeys(rule, computed, residentID: event.residentID, date: date)
        switch computed {
        case .streak(let days):
            let counter = counters[keys[0]] ?? .zero
            let last = counter.points - 1, day = Int64(date.dayNumber)
            guard counter.points == 0 || day > last else { return (0, []) }
            let length = counter.points > 0 && day == last + 1 ? counter.count + 1 : 1
            return (length % Int64(days) == 0 ? 1 : 0,
                    [CounterDelta(key: keys[0], points: day + 1 - counter.points, count: length - counter.count, pointsMax: day + 1, countMax: length)])
        case .milestoneSteps(let every):
            guard case .walk(_, let steps, _) = event.detail else { return (0, []) }
            let today = counters[keys[0]] ?? .zero, total = counters[keys[1]] ?? .zero
            let added = steps - today.points
            guard added > 0 else { return (0, []) }
            return ((total.points + added) / every - total.points / every,
                    [CounterDelta(key: keys[0], points: added, count: 1, pointsMax: steps),
                     CounterDelta(key: keys[1], points: added, count: 1, pointsMax: total.points + added)])
        case .milestoneRides(let every):
            let total = counters[keys[0]] ?? .zero
            return ((total.count + 1) % every == 0 ? 1 : 0, [CounterDelta(key: keys[0], points: 0, count: 1, countMax: total.count + 1)])
        }
    }

    /// Whether a limit counts on `date`: a `per: campaign` limit only on its campaign's days.
    func applies(_ limit: Limit, on date: LocalDate) -> Bool {
        limit.period != .campaign || campaignsByID[limit.campaign ?? ""]?.covers(date) == true
    }

    /// The counter of a sponsor's budget for the period holding `date`.
    func budgetKey(_ budget: SponsorBudget, date: LocalDate) -> CounterKey {
        CounterKey(subject: .sponsor(budget.sponsorID), name: budget.counterName, period: Self.period(budget.budget.period, of: date))
    }

    /// A number for the period holding `date`: its day number, the day number of its ISO week's
    /// Monday, `year × 12 + month − 1`, or 0 for the whole program.
    static func period(_ period: Limit.Period, of date: LocalDate) -> Int {
        switch period {
        case .day: date.dayNumber
        case .week: date.dayNumber - (date.weekday + 6) % 7
        case .month: date.year * 12 + date.month - 1
        case .program, .campaign: 0
        }
    }

    /// The first day of the period after the one holding `date` (a program has no next period).
    static func nextPeriod(_ period: Limit.Period, after date: LocalDate) -> LocalDate {
        switch period {
        case .day: LocalDate(dayNumber: date.dayNumber + 1)
        case .week: LocalDate(dayNumber: Self.period(.week, of: date) + 7)
        case .month: LocalDate(year: date.month == 12 ? date.year + 1 : date.year, month: date.month % 12 + 1, day: 1)!
        case .program, .campaign: date
        }
    }

    func minutes(of event: Event) -> Int? {
        switch event.detail {
        case .walk: return nil
        case .transitTap(let at, _, _, _), .visit(let at, _):
            let seconds = localSeconds(at)
            return Int(((seconds % 86_400) + 86_400) % 86_400 / 60)
        }
    }

    /// Why there is no award, the most telling kept: a limit reached says more than a condition.
    public enum NoAward: Sendable {
        case noRule
        case condition(rule: CompiledRule, failed: Condition)
        /// The formula pays nothing for so few steps.
        case nothingDue(rule: CompiledRule, steps: Int64)
        case alreadyPaid
        /// A streak or milestone made progress but is not reached.
        case goalNotYet(rule: CompiledRule)
        case limit(rule: CompiledRule, limit: Int)
        case budget(SponsorBudget)

        var rank: Int {
            switch self {
            case .noRule: 0
            case .condition, .nothingDue, .goalNotYet: 1
            case .alreadyPaid: 2
            case .limit: 3
            case .budget: 4
            }
        }

        /// Keeps the reason that explains most (the first of the highest rank), in place: judging
        /// calls it for every rule that pays nothing, so it copies no reason it does not keep.
        mutating func keep(_ other: NoAward) { if other.rank > rank { self = other } }
    }

    func note(_ why: NoAward) -> LocalizedText {
        switch why {
        case .noRule:
            return LocalizedText(ja: "該当するルールがないため、ポイントは付与されません", en: "No points: no rule applies to this event")
        case .condition(let rule, let failed):
            let condition = failed.text
            return LocalizedText(ja: "条件を満たさないため、ポイントは付与されません（\(rule.name.ja): \(condition.ja)）",
                                 en: "No points: \(rule.name.en) needs \(condition.en)")
        case .nothingDue(let rule, let steps):
            return LocalizedText(ja: "\(grouped(steps))歩では\(rule.name.ja)のポイントはありません",
                                 en: "No points: \(rule.name.en) pays nothing for \(grouped(steps)) steps")
        case .goalNotYet(let rule):
            return LocalizedText(ja: "\(rule.name.ja)の達成まで続けましょう（今回はポイントなし）", en: "No points yet: \(rule.name.en) is not reached")
        case .alreadyPaid:
            return LocalizedText(ja: "この日の歩数のポイントは付与済みです", en: "No points: this day's steps have already earned their points")
        case .budget(let budget):
            let text = budget.budget.text
            return LocalizedText(ja: "\(budget.sponsorName.ja)の予算（\(text.ja)）を使い切ったため、ポイントは付与されません",
                                 en: "No points: the budget of \(budget.sponsorName.en) (\(text.en)) is spent")
        case .limit(let rule, let position):
            let limit = rule.limits[position].text
            return LocalizedText(ja: "\(rule.name.ja)の上限（\(limit.ja)）に達しているため、ポイントは付与されません",
                                 en: "No points: \(rule.name.en) has reached its limit of \(limit.en)")
        }
    }

    /// The first submitter the program lets report `kind` (a feed named `ingest` stands for any feed;
    /// when nobody may, a submitter that is refused).
    public func firstSubmitter(of kind: Event.Kind, residentID: String) -> Submitter {
        switch permissions[Event.Kind.allCases.firstIndex(of: kind)!].first {
        case .resident?: .resident(residentID)
        case .feed(let name)?: .feed(name)
        case .anyFeed?, nil: .feed("ingest")
        }
    }

    /// Why `submitter` may not report events of `kind`; nil when it may.
    public func refusal(of kind: Event.Kind, from submitter: Submitter) -> LocalizedText? {
        let permissions = permissions[Event.Kind.allCases.firstIndex(of: kind)!]
        guard !permissions.contains(where: { $0.admits(submitter) }) else { return nil }
        let allowed = permissions.isEmpty ? "-" : permissions.map(\.description).joined(separator: ", ")
        return LocalizedText(ja: "この送信元（\(submitter.source)）からは\(kind.rawValue)イベントを受け付けていません（受付: \(allowed)）",
                             en: "\(kind.rawValue) events are not accepted from \(submitter.source) (accepted from: \(allowed))")
    }

    /// What the ruleset in force now passes to the ruleset that judges an event it has admitted: its
    /// sponsors' budgets, which bind every award paid now, whichever ruleset words it.
    public struct Admitted: Sendable {
        let version: String
        let budgets: [String: [SponsorBudget]]
    }

    /// This ruleset as the one in force now, for `evaluate(…, admitted:)` after `admission`: made
    /// once, not per batch.
    public let admitted: Admitted

    /// What the program in force now asks of every event, whichever ruleset judges it: who may send
    /// it, and how old it may be. A late event judged by an older ruleset is admitted by this one.
    public func admission(_ event: Event, from submitter: Submitter, now: Date) -> LocalizedText? {
        refusal(of: event.kind, from: submitter) ?? tooOld(localDate(of: event), now: now)
    }

    func tooOld(_ date: LocalDate, now: Date) -> LocalizedText? {
        guard date.dayNumber < dayNumber(now) - ruleset.program.eventAgeDaysMax else { return nil }
        return LocalizedText(ja: "\(ruleset.program.eventAgeDaysMax)日より前の活動は対象外です",
                             en: "The activity is more than \(ruleset.program.eventAgeDaysMax) day\(ruleset.program.eventAgeDaysMax == 1 ? "" : "s") old")
    }

    /// Events that cannot be true, or may not earn: they are answered `rejected` and change nothing.
    /// `admitted`: the program in force now has already judged who sent it and its age.
    func rejection(_ event: Event, from submitter: Submitter, resident: Resident, date: LocalDate, now: Date, admitted: Bool) -> LocalizedText? {
        if !admitted, let refusal = refusal(of: event.kind, from: submitter) { return refusal }
        switch event.detail {
        case .walk(_, let steps, _):
            if steps > ruleset.program.stepsPerDayMax {
                return LocalizedText(ja: "1日の歩数が上限（\(ruleset.program.stepsPerDayMax)歩）を超えています",
                                     en: "More steps than the daily maximum of \(ruleset.program.stepsPerDayMax)")
            }
            if date.dayNumber > dayNumber(now) {
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
        let program = ruleset.program
        if program.runsFrom.map({ date < $0 }) ?? false || program.runsTo.map({ date > $0 }) ?? false {
            return LocalizedText(ja: "実施期間（\(program.runsFrom?.description ?? "")〜\(program.runsTo?.description ?? "")）外の活動です",
                                 en: "The activity is outside the program's days (\(program.runsText))")
        }
        return admitted ? nil : tooOld(date, now: now)
    }
}

extension EarningRule.Points {
    /// What a day of `steps` earns in total under this formula.
    func dayTotal(steps: Int64) -> Int64 {
        switch self {
        case .fixed(let points): points
        case .per(let unit, let points, let round):
            switch round {
            case .down: steps / unit * points
            case .up: (steps + unit - 1) / unit * points
            case .nearest: (2 * steps + unit) / (2 * unit) * points
            }
        case .bands(let bands): bands.last { $0.steps <= steps }?.points ?? 0
        }
    }
}

/// What became of one rule for one event, for `rules explain`.
enum RuleStep {
    case conditionNotMet(Condition)
    /// A walk too short for the formula to pay anything.
    case nothingDue
    /// The day's total under the formula was paid already.
    case alreadyPaid(total: Int64)
    case limitReached(Int)
    case goalNotYet
    case budgetSpent(Evaluator.SponsorBudget)
    case lostInGroup(points: Int64, winner: String)
    case awarded(points: Int64, funding: [SponsorShare], cappedBy: Int?, pendingDays: Int)
}

protocol DecisionTrace {
    mutating func record(_ rule: Evaluator.CompiledRule, _ step: RuleStep)
}

struct NoTrace: DecisionTrace {
    @inline(__always) mutating func record(_ rule: Evaluator.CompiledRule, _ step: RuleStep) {}
}
