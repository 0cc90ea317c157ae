import AyumiCore
import Foundation

/// For one event: every rule of its trigger, whether it fired, and why not (the condition that
/// failed, the limit reached, the group that picked another), the limit that reduced an award,
/// and the split between sponsors with the funding carried so far. What `ayumi rules explain`
/// prints, in either language.
public struct Explanation: Sendable {
    public struct Line: Sendable {
        public var ruleID: String
        public var name: LocalizedText
        public var fired: Bool
        public var detail: LocalizedText
    }

    public var eventID: String
    public var kind: Event.Kind
    public var residentID: String
    public var date: LocalDate
    public var rulesetVersion: String
    /// Why the event is refused before any rule is considered.
    public var rejection: LocalizedText?
    /// The same submitter sent this id before and it was accepted: sending it again changes
    /// nothing, and the rules below are judged against counters that already hold its awards.
    public var alreadyRecorded = false
    /// The rules of the event's trigger, in file order.
    public var lines: [Line]
    /// Rules that listen to other triggers (not considered).
    public var otherRules: Int
    public var points: Int64

    public func text(_ language: Language) -> String {
        let ja = language == .ja
        var out = ja
            ? "イベント \(eventID)（\(kind.rawValue)、利用者 \(residentID)、\(date)）ルールセット \(rulesetVersion)\n"
            : "Event \(eventID) (\(kind.rawValue), resident \(residentID), \(date)) under Rules version \(rulesetVersion)\n"
        if alreadyRecorded {
            out += ja ? "この送信元からの同じIDのイベントは受付済みです。再送しても何も変わりません（以下はそれを含む現在の集計に対する判定）\n"
                : "already recorded from this submitter: sending it again changes nothing (judged below against counters that include it)\n"
        }
        if let rejection {
            out += ja ? "受け付けません: \(rejection.ja)\n" : "rejected: \(rejection.en)\n"
            return out
        }
        for line in lines {
            out += "  \(line.fired ? "+" : "-") \(line.ruleID) (\(line.name.text(language))): \(line.detail.text(language))\n"
        }
        if otherRules > 0 {
            out += ja ? "  （他の種類のイベントのルール \(otherRules)件は対象外）\n" : "  (\(otherRules) rules for other kinds of event not considered)\n"
        }
        out += ja ? "合計 \(points)ポイント\n" : "total: \(points) points\n"
        return out
    }
}

struct ExplanationTrace: DecisionTrace {
    var steps: [(Evaluator.CompiledRule, RuleStep)] = []
    mutating func record(_ rule: Evaluator.CompiledRule, _ step: RuleStep) { steps.append((rule, step)) }
}

extension Evaluator {
    public func explain(_ event: Event, from submitter: Submitter, resident: Resident, counters: [CounterKey: Counter],
                        now: Date, admitted: Admitted? = nil) -> Explanation {
        var trace = ExplanationTrace()
        let decision = decide(event, from: submitter, resident: resident, counters: counters, now: now, admitted: admitted, trace: &trace)
        let considered = rules(for: event.kind)
        var explanation = Explanation(eventID: event.id, kind: event.kind, residentID: event.residentID, date: decision.date,
                                      rulesetVersion: ruleset.version, rejection: nil, lines: [],
                                      otherRules: ruleset.rules.count - considered.count, points: 0)
        if case .rejected(let reason) = decision.outcome {
            explanation.rejection = reason
            return explanation
        }
        for rule in considered {
            // A rule's last step is what became of it (a candidate may still lose in its group).
            guard let step = trace.steps.last(where: { $0.0 === rule })?.1 else { continue }
            explanation.lines.append(Explanation.Line(ruleID: rule.id, name: rule.name, fired: { if case .awarded = step { true } else { false } }(),
                                                      detail: describe(step, rule: rule, event: event, counters: counters)))
            if case .awarded(let points, _, _, _) = step { explanation.points += points }
        }
        return explanation
    }

    func describe(_ step: RuleStep, rule: CompiledRule, event: Event, counters: [CounterKey: Counter]) -> LocalizedText {
        switch step {
        case .conditionNotMet(let condition):
            let text = condition.text
            return LocalizedText(ja: "条件を満たさない（\(text.ja)）", en: "not met: needs \(text.en)")
        case .nothingDue:
            return LocalizedText(ja: "この歩数ではポイントなし", en: "pays nothing for so few steps")
        case .alreadyPaid(let total):
            return LocalizedText(ja: "この日の合計\(grouped(total))ポイントは付与済み", en: "the day's total, \(grouped(total)) points, was paid already")
        case .goalNotYet:
            return LocalizedText(ja: "目標にはまだ届かない（進み具合は記録）", en: "not reached yet (progress kept)")
        case .limitReached(let position):
            let limit = rule.limits[position].text
            return LocalizedText(ja: "上限に到達（\(limit.ja)）", en: "limit reached: \(limit.en)")
        case .budgetSpent(let budget):
            let text = budget.budget.text
            return LocalizedText(ja: "\(budget.sponsorID)の予算（\(text.ja)）の残りでは払えない", en: "\(budget.sponsorID)'s budget (\(text.en)) cannot pay it")
        case .lostInGroup(let points, let winner):
            return LocalizedText(ja: "\(grouped(points))ポイントになるが、グループ \(rule.group ?? "") では \(winner) を採用",
                                 en: "would pay \(grouped(points)) points, but group \(rule.group ?? "") picks \(winner)")
        case .awarded(let points, let funding, let cappedBy, let pendingDays):
            let capped = cappedBy.map { position -> LocalizedText in
                guard position < 0 else { return rule.limits[position].text }
                guard budgets.indices.contains(-1 - position) else { return LocalizedText(ja: "負担者の予算", en: "a sponsor's budget") }
                let budget = budgets[-1 - position], text = budget.budget.text
                return LocalizedText(ja: "\(budget.sponsorID)の予算 \(text.ja)", en: "\(budget.sponsorID)'s budget of \(text.en)")
            }
            let shares = funding.map { "\($0.sponsorID) \($0.points)" }.joined(separator: ", ")
            var ja = "\(grouped(points))ポイント付与" + (capped.map { "（上限 \($0.ja) により減額）" } ?? "") + "、負担: \(shares)"
            var en = "awards \(points == 1 ? "1 point" : "\(grouped(points)) points")" + (capped.map { " (capped at \($0.en))" } ?? "") + "; funded by \(shares)"
            if pendingDays > 0 {
                let until = LocalDate(dayNumber: localDate(of: event).dayNumber + pendingDays)
                let byBudget = pendingDays > rule.pendingDays
                ja += "（\(until)まで保留" + (byBudget ? "。今期の予算を使い切ったため次期の予算から支払い" : "") + "）"
                en += " (held as pending until \(until)" + (byBudget ? ", paid from the next period's budget: this one is spent" : "") + ")"
            }
            if let name = rule.splitName {
                let carried = rule.funding.map { share in
                    "\(share.sponsorID) \((counters[CounterKey(subject: .sponsor(share.sponsorID), name: name, period: 0)] ?? .zero).points)"
                }.joined(separator: ", ")
                let percents = rule.funding.map { "\($0.sponsorID) \($0.weight * 100 / rule.weights.reduce(0, +))%" }.joined(separator: ", ")
                ja += "（これまでの負担: \(carried)。割合 \(percents)）"
                en += " (funded so far under this rule: \(carried); shares \(percents))"
            }
            return LocalizedText(ja: ja, en: en)
        }
    }
}
