import AyumiCore
@testable import AyumiRules
import Foundation
import Testing

/// The tests' program with one more rule file (and any file replaced).
func evaluator(adding files: [String: String]) throws -> Evaluator {
    var all = try demoFiles()
    all.merge(files) { _, new in new }
    return Evaluator(ruleset: try RulesParser.parse(files: all))
}

/// A visit rule paying 3 points, funded by the city, under `conditions` (YAML lines, indented 2).
func visitRule(_ conditions: String, id: String = "extra", trigger: String = "visit", extra: String = "") -> String {
    """
    id: \(id)
    trigger: \(trigger)
    name: {ja: 追加, en: Extra}
    conditions:
    \(conditions)
    points:
      fixed: 3
    \(extra)
    funding:
      health-office: 100%
    reason: {ja: "{date}", en: "{date}"}
    """
}

func points(_ evaluation: Evaluation, rule: String) -> Int64 {
    awards(evaluation).filter { $0.ruleID == rule }.reduce(0) { $0 + $1.points }
}

/// Hours after midnight of 2026-11-25 in Tokyo.
func tokyo(_ hours: Double, day: Int = 0) -> Date { noon.addingTimeInterval((hours - 12) * 3_600 + Double(day) * 86_400) }

@Suite("Rules engine: conditions")
struct ConditionTests {
    // 2026-11-23 is Labour Thanksgiving Day (a Monday), 2026-11-28 a Saturday, 2026-11-25 a Wednesday.
    static let cases: [(String, String, Date, Bool)] = [
        ("time in the window", "  time: {from: \"07:00\", to: \"09:30\"}", tokyo(8), true),
        ("time after the window", "  time: {from: \"07:00\", to: \"09:30\"}", tokyo(9.5), false),
        ("window over midnight", "  time: {from: \"22:00\", to: \"05:00\"}", tokyo(23.5, day: -1), true),
        ("window over midnight, midday", "  time: {from: \"22:00\", to: \"05:00\"}", tokyo(12), false),
        ("a Wednesday is a weekday", "  days: [weekday]", tokyo(12), true),
        ("a holiday Monday is not a weekday", "  days: [weekday]", tokyo(12, day: -2), false),
        ("a holiday Monday is a holiday", "  days: [holiday]", tokyo(12, day: -2), true),
        ("a Saturday is the weekend", "  days: [weekend]", tokyo(12, day: 3), true),
        ("inside a date window", "  dates: {from: 2026-11-20, to: 2026-11-25}", tokyo(12), true),
        ("after a date window", "  dates: {from: 2026-11-20, to: 2026-11-24}", tokyo(12), false),
        ("aged 76 in 2026: at least 65", "  age: {min: 65}", tokyo(12), true),
        ("aged 76 in 2026: not at most 64", "  age: {max: 64}", tokyo(12), false),
        ("district listed", "  district: [\"14101\"]", tokyo(12), true),
        ("district not listed", "  district: [\"14102\"]", tokyo(12), false),
        ("328 days since enrolment: not in the first 30", "  enrolledDays: {max: 29}", tokyo(12), false),
        ("328 days since enrolment: at least 300", "  enrolledDays: {min: 300}", tokyo(12), true),
        ("any: one branch holds", "  any:\n    - days: [weekend]\n    - age: {min: 70}", tokyo(12), true),
        ("any: no branch holds", "  any:\n    - days: [weekend]\n    - age: {max: 20}", tokyo(12), false),
        ("not", "  not:\n    zone: [centre]", tokyo(12), false),
        ("all nested", "  all:\n    - zone: [centre]\n    - not: {days: [holiday]}", tokyo(12), true),
    ]

    @Test("each predicate, and all / any / not over them", arguments: cases)
    func predicate(name: String, conditions: String, at: Date, fires: Bool) throws {
        let engine = try evaluator(adding: ["extra.yaml": visitRule(conditions)])
        let event = Event(id: "v", residentID: "r-1", detail: .visit(at: at, zone: "centre"))
        let evaluation = engine.evaluate(event, resident: resident, counters: [:], now: at.addingTimeInterval(60))
        #expect(points(evaluation, rule: "extra") == (fires ? 3 : 0), "\(name)")
    }

    @Test("tags: any of them; consent: all of them", arguments: [
        ("  tags: [pilot-group-b, pilot-group-c]", ["pilot-group-b"], [String](), true),
        ("  tags: [pilot-group-c]", ["pilot-group-b"], [], false),
        ("  consent: [research, partner-offers]", [], ["research"], false),
        ("  consent: [research]", [], ["partner-offers", "research"], true),
    ])
    func labels(conditions: String, tags: [String], consents: [String], fires: Bool) throws {
        let engine = try evaluator(adding: ["extra.yaml": visitRule(conditions)])
        var labelled = resident
        labelled.tags = tags
        labelled.consents = consents
        let evaluation = engine.evaluate(Event(id: "v", residentID: "r-1", detail: .visit(at: noon, zone: "centre")),
                                         resident: labelled, counters: [:], now: noon.addingTimeInterval(60))
        #expect(points(evaluation, rule: "extra") == (fires ? 3 : 0))
    }

    @Test("operator: the ingest feed a tap came from, so a resident's app can never claim one", arguments: [
        ("  operator: [keikyu]", Submitter.feed("keikyu"), true),
        ("  operator: [keikyu]", Submitter.feed("metro-feed"), false),
        ("  operator: [keikyu]", Submitter.resident("r-1"), false),
        ("  not: {operator: [keikyu]}", Submitter.feed("metro-feed"), true),
    ])
    func transitOperator(conditions: String, submitter: Submitter, fires: Bool) throws {
        var files = try demoFiles()
        files["program.yaml"] = files["program.yaml"]!.replacingOccurrences(of: "transit_tap: [ingest:metro-feed]",
                                                                            with: "transit_tap: [resident, ingest]")
        files["extra.yaml"] = visitRule(conditions, trigger: "transit_tap")
        let engine = Evaluator(ruleset: try RulesParser.parse(files: files))
        let tap = Event(id: "t", residentID: "r-1", detail: .transitTap(at: noon, mode: "bus", route: "r10", stop: "s1"))
        let evaluation = engine.evaluate(tap, from: submitter, resident: resident, counters: [:], now: noon.addingTimeInterval(60))
        #expect(points(evaluation, rule: "extra") == (fires ? 3 : 0))
    }

    @Test("a condition that fails is named in the answer, in both languages")
    func failedConditionNamed() throws {
        let engine = try evaluator(adding: ["centre-visit.yaml": visitRule("  age: {min: 80}", id: "centre-visit")])
        let evaluation = engine.evaluate(Event(id: "v", residentID: "r-1", detail: .visit(at: noon, zone: "centre")),
                                         resident: resident, counters: [:], now: noon)
        guard case .accepted(let awards, let note) = evaluation.outcome else { Issue.record("expected accepted"); return }
        #expect(awards.isEmpty)
        #expect(note == LocalizedText(ja: "条件を満たさないため、ポイントは付与されません（追加: 年齢80歳以上）",
                                      en: "No points: Extra needs at least 80 years of age"))
    }

    @Test("steps ranges on walks", arguments: [(Int64(4_999), false), (5_000, true), (8_000, true), (8_001, false)])
    func stepsRange(steps: Int64, fires: Bool) throws {
        let engine = try evaluator(adding: ["extra.yaml": visitRule("  steps: {min: 5_000, max: 8_000}", trigger: "walk")])
        let evaluation = engine.evaluate(Event(id: "w", residentID: "r-1", detail: .walk(date: today, steps: steps, source: "phone")),
                                         resident: resident, counters: [:], now: noon)
        #expect(points(evaluation, rule: "extra") == (fires ? 3 : 0))
    }
}

@Suite("Rules engine: points, limits, groups, funding")
struct FormulaTests {
    func walkRule(_ points: String, limits: String = "") -> String {
        "id: extra\ntrigger: walk\nname: {ja: 追加, en: Extra}\npoints:\n\(points)\n\(limits)\nfunding:\n  health-office: 100%\n"
            + "reason: {ja: \"{steps}\", en: \"{steps}\"}\n"
    }

    func walk(_ steps: Int64, _ engine: Evaluator, counters: [CounterKey: Counter] = [:]) -> Evaluation {
        engine.evaluate(Event(id: "w", residentID: "r-1", detail: .walk(date: today, steps: steps, source: "phone")),
                        resident: resident, counters: counters, now: noon)
    }

    @Test("per unit with explicit rounding", arguments: [
        ("down", Int64(2_499), Int64(2)), ("down", 2_500, 2), ("up", 2_001, 3), ("up", 2_000, 2), ("nearest", 2_499, 2), ("nearest", 2_500, 3),
    ])
    func perUnit(round: String, steps: Int64, expected: Int64) throws {
        let engine = try evaluator(adding: ["extra.yaml": walkRule("  per: {steps: 1_000, points: 1, round: \(round)}")])
        #expect(points(walk(steps, engine), rule: "extra") == expected)
    }

    @Test("per unit rounds the number of units, then pays each", arguments: [
        ("down", Int64(1_500), Int64(3)), ("up", 1_001, 6), ("nearest", 1_500, 6), ("nearest", 1_499, 3),
    ])
    func perUnitPoints(round: String, steps: Int64, expected: Int64) throws {
        let engine = try evaluator(adding: ["extra.yaml": walkRule("  per: {steps: 1_000, points: 3, round: \(round)}")])
        #expect(points(walk(steps, engine), rule: "extra") == expected)
    }

    @Test("walk rules of one pick-best group pay the day's best total once, not each rule its own")
    func walkGroup() throws {
        func rule(_ id: String, _ minimum: Int, _ fixed: Int) -> String {
            "id: \(id)\ntrigger: walk\nname: {ja: \(id), en: \(id)}\ngroup: {id: g, pick: best}\nconditions:\n  steps: {min: \(minimum)}\n"
                + "points:\n  fixed: \(fixed)\nfunding:\n  health-office: 100%\nreason: {ja: a, en: a}\n"
        }
        let engine = try evaluator(adding: ["a.yaml": rule("a", 3_000, 3), "b.yaml": rule("b", 8_000, 5)])
        let first = walk(4_000, engine)
        #expect(awards(first).filter { $0.ruleID != "walk-bands" }.map(\.points) == [3])
        let groupKey = CounterKey(subject: .resident("r-1"), name: "group:g", period: today.dayNumber)
        #expect(first.deltas.contains { $0.key == groupKey && $0.points == 3 })
        let later = walk(9_000, engine, counters: [groupKey: Counter(points: 3, count: 1)])
        #expect(awards(later).filter { $0.ruleID != "walk-bands" }.map { "\($0.ruleID):\($0.points)" } == ["b:2"])
    }

    @Test("a count limit on walks counts days: a later report of a counted day still pays its difference")
    func walkCountsDays() throws {
        let engine = try evaluator(adding: ["extra.yaml": walkRule("  per: {steps: 1_000, points: 1, round: down}",
                                                                   limits: "limits:\n  - {per: week, count: 1}")])
        let week = CounterKey(subject: .resident("r-1"), name: "extra/week", period: LocalDate("2026-11-23")!.dayNumber)
        let day = CounterKey(subject: .resident("r-1"), name: "extra", period: today.dayNumber)
        let resync = walk(6_000, engine, counters: [week: Counter(points: 4, count: 1), day: Counter(points: 4, count: 1)])
        #expect(points(resync, rule: "extra") == 2)
        #expect(resync.deltas.first { $0.key == week }?.count == 0)
        let otherDay = walk(6_000, engine, counters: [week: Counter(points: 4, count: 1)])
        #expect(points(otherDay, rule: "extra") == 0)
    }

    @Test("bands pay the highest band reached, and a later report only the difference", arguments: [
        (Int64(2_999), Int64(0), Int64(0)), (3_000, 0, 1), (6_500, 0, 3), (12_000, 0, 5), (12_000, 3, 2), (6_000, 3, 0),
    ])
    func bands(steps: Int64, alreadyPaid: Int64, expected: Int64) throws {
        let engine = try evaluator(adding: ["extra.yaml": walkRule(
            "  bands:\n    - {steps: 3_000, points: 1}\n    - {steps: 6_000, points: 3}\n    - {steps: 10_000, points: 5}")])
        let counters = [CounterKey(subject: .resident("r-1"), name: "extra", period: today.dayNumber): Counter(points: alreadyPaid, count: 1)]
        #expect(points(walk(steps, engine, counters: counters), rule: "extra") == expected)
    }

    /// 2026-11-25 is in the ISO week starting Monday 2026-11-23, in month 2026 × 12 + 10.
    @Test("limits per week, month and program, per resident or for everyone, reduce the award and say so", arguments: [
        ("{per: week, points: 10}", CounterKey.Subject.resident("r-1"), "extra/week", LocalDate("2026-11-23")!.dayNumber, Int64(8), Int64(2),
         "10 points a week"),
        ("{per: month, count: 3}", .resident("r-1"), "extra/month", 2026 * 12 + 10, 3, 0, ""),
        ("{per: program, points: 100}", .resident("r-1"), "extra/program", 0, 97, 3, "100 points in the program"),
        ("{per: day, points: 1_000, scope: program}", .program, "extra", today.dayNumber, 999, 1, "1,000 points a day for everyone together"),
    ])
    func periods(limit: String, subject: CounterKey.Subject, name: String, period: Int, already: Int64, expected: Int64, text: String) throws {
        let engine = try evaluator(adding: ["extra.yaml": walkRule("  per: {steps: 1_000, points: 1, round: down}", limits: "limits:\n  - \(limit)")])
        let key = CounterKey(subject: subject, name: name, period: period)
        #expect(engine.counterKeys(for: Event(id: "w", residentID: "r-1", detail: .walk(date: today, steps: 5_000, source: "p")), now: noon).contains(key))
        let evaluation = walk(5_000, engine, counters: [key: Counter(points: already, count: already)])
        #expect(points(evaluation, rule: "extra") == expected)
        if expected > 0 {
            let award = try #require(awards(evaluation).first { $0.ruleID == "extra" })
            #expect(award.cappedBy == 0)
            #expect(award.reason.en == "5000 (capped at \(text))")
            // The store adds the award to the limit's counter, guarded by the limit.
            let delta = try #require(evaluation.deltas.first { $0.key == key })
            #expect(delta.points == expected)
            #expect(delta.pointsMax == (subject == .program ? 1_000 : already + expected))
        } else {
            #expect(!evaluation.deltas.contains { $0.key.name.hasPrefix("extra") }, "no award, no counter change")
        }
    }

    @Test("the walk rule capped at 5 says so in both languages")
    func cappedReason() throws {
        let evaluation = walk(12_000, try demoEvaluator(),
                              counters: [CounterKey(subject: .resident("r-1"), name: "walk-bands", period: today.dayNumber): Counter(points: 3, count: 1)])
        let award = try #require(awards(evaluation).first)
        #expect(award.points == 2)
        #expect(award.cappedBy == 0)
        #expect(award.reason.en == "12000 steps on 2026-11-25 (1 point per 2,000 steps, up to 5 a day) (capped at 5 points a day)")
        #expect(award.reason.ja == "2026-11-25に12000歩（2,000歩ごとに1ポイント、1日5ポイントまで）（上限 1日5ポイント により減額）")
    }

    @Test("a group with pick: best awards only its largest award; other rules still stack")
    func pickBest() throws {
        let group = "group: {id: centre, pick: best}"
        let engine = try evaluator(adding: [
            "centre-visit.yaml": try demoFiles()["centre-visit.yaml"]!.replacingOccurrences(of: "conditions:", with: group + "\nconditions:"),
            "weekend-visit.yaml": visitRule("  zone: [centre]\n  days: [weekend, holiday]", id: "weekend-visit", extra: group),
            "any-visit.yaml": visitRule("  zone: [centre]", id: "any-visit"),
        ])
        let weekday = engine.evaluate(Event(id: "v1", residentID: "r-1", detail: .visit(at: noon, zone: "centre")),
                                      resident: resident, counters: [:], now: noon)
        #expect(awards(weekday).map(\.ruleID).sorted() == ["any-visit", "centre-visit"])
        let saturday = engine.evaluate(Event(id: "v2", residentID: "r-1", detail: .visit(at: tokyo(12, day: 3), zone: "centre")),
                                       resident: resident, counters: [:], now: tokyo(13, day: 3))
        #expect(awards(saturday).map(\.ruleID).sorted() == ["any-visit", "weekend-visit"])
        #expect(!saturday.deltas.contains { $0.key.name == "centre-visit" }, "the losing rule's counters do not change")
    }

    @Test("funding carried per rule: 1-point taps funded 50/50 alternate between the sponsors")
    func carriedFunding() throws {
        let engine = try demoEvaluator()
        var counters: [CounterKey: Counter] = [:]
        var billed: [String: Int64] = [:]
        for index in 0..<10 {
            let tap = Event(id: "t-\(index)", residentID: "r-\(index)", detail: .transitTap(at: noon, mode: "bus", route: "r10", stop: "s1"))
            let evaluation = engine.evaluate(tap, resident: resident, counters: counters, now: noon)
            let award = try #require(awards(evaluation).first)
            #expect(award.funding.count == 1)
            for share in award.funding { billed[share.sponsorID, default: 0] += share.points }
            for delta in evaluation.deltas where delta.key.subject != .resident("r-\(index)") {
                counters[delta.key, default: .zero].points += delta.points
            }
        }
        #expect(billed == ["health-office": 5, "metro-company": 5])
    }
}

@Suite("Rules engine: checks")
struct EngineCheckTests {
    func diagnostics(_ replacements: [String: String]) throws -> [String] {
        var files = try demoFiles()
        files.merge(replacements) { _, new in new }
        do {
            _ = try RulesParser.parse(files: files, displayPrefix: "Rules/")
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    @Test("every new error kind is reported at its place with what to write", arguments: [
        ("  time: {from: \"07:00\", to: \"09:00\"}", "walk", "Rules/extra.yaml:5:9: error: time applies to transit_tap and visit rules only"),
        ("  zone: [centr]", "visit", "Rules/extra.yaml:5:10: error: unknown zone 'centr'; did you mean 'centre'?"),
        ("  dates: {from: 2026-12-31, to: 2026-12-01}", "visit", "Rules/extra.yaml:5:33: error: the window ends (2026-12-01) before it starts (2026-12-31)"),
        ("  age: {min: 70, max: 60}", "visit", "Rules/extra.yaml:5:23: error: max 60 is below min 70"),
        ("  time: {from: \"7:00\", to: \"09:00\"}", "visit", "Rules/extra.yaml:5:16: error: expected a local time as HH:MM (00:00 to 24:00)"),
        ("  days: [workday]", "visit", "Rules/extra.yaml:5:10: error: expected one of: weekday, weekend, holiday"),
    ])
    func conditionErrors(conditions: String, trigger: String, expected: String) throws {
        let found = try diagnostics(["extra.yaml": visitRule(conditions, trigger: trigger)])
        #expect(found == [expected], "\(found)")
    }

    @Test("a misspelt required key names the key it resembles; two formulas are one too many", arguments: [
        ("trigger: visit", "trigge: visit", "Rules/extra.yaml:2:1: error: unknown key 'trigge'; did you mean 'trigger'?"),
        ("reason: {", "reasn: {", "Rules/extra.yaml:11:1: error: unknown key 'reasn'; did you mean 'reason'?"),
        ("  fixed: 3", "  fixed: 3\n  per: {steps: 1_000, points: 1, round: down}", "Rules/extra.yaml:7:3: error: write one formula only, not fixed and per"),
    ])
    func requiredKeys(original: String, replacement: String, expected: String) throws {
        let found = try diagnostics(["extra.yaml": visitRule("  zone: [centre]").replacingOccurrences(of: original, with: replacement)])
        #expect(found == [expected], "\(found)")
    }

    @Test("shares must add up to 100%, all as percentages")
    func shares() throws {
        let transit = try demoFiles()["transit.yaml"]!
        #expect(try diagnostics(["transit.yaml": transit.replacingOccurrences(of: "metro-company: 50%", with: "metro-company: 40%")])
                    .first?.hasSuffix("error: the shares add up to 90%, not 100%") == true)
        #expect(try diagnostics(["transit.yaml": transit.replacingOccurrences(of: "metro-company: 50%", with: "metro-company: 50")])
                    .first?.hasSuffix("error: write every share as a percentage, or none") == true)
        #expect(try diagnostics(["transit.yaml": transit.replacingOccurrences(of: "metro-company: 50%", with: "metro-company: 150%")])
                    .first?.hasSuffix("error: expected a whole percentage from 1% to 100%") == true)
    }

    @Test("overlapping or falling bands are errors at the band")
    func overlappingBands() throws {
        let rule = "id: extra\ntrigger: walk\nname: {ja: 追加, en: Extra}\npoints:\n  bands:\n    - {steps: 5_000, points: 2}\n"
            + "    - {steps: 5_000, points: 3}\nfunding:\n  health-office: 100%\nreason: {ja: a, en: a}\n"
        let found = try diagnostics(["extra.yaml": rule])
        #expect(found == ["Rules/extra.yaml:7:15: error: this band (from 5,000 steps) overlaps the one before it (from 5,000): "
                          + "list bands by increasing steps"], "\(found)")
    }

    @Test("a date listed twice in the calendar is an error")
    func calendarDuplicate() throws {
        let text = "holidays:\n  - {date: 2026-01-01, name: {ja: 元日, en: New Year}}\n  - {date: 2026-01-01, name: {ja: 元日, en: New Year}}\n"
        #expect(try diagnostics(["calendar/extra.yaml": text]).first?.hasPrefix("Rules/calendar/extra.yaml:3:12: error: 2026-01-01 is listed twice") == true)
    }

    @Test("the calendar holds Japan's 2025-2027 holidays, substitute days included")
    func calendar() throws {
        let ruleset = try RulesParser.load(directory: rulesDirectory)
        let days = Set(ruleset.holidays.map(\.date.description))
        #expect(ruleset.holidays.count == 54)
        for day in ["2025-02-24", "2025-11-24", "2026-05-06", "2026-09-22", "2027-03-22", "2027-07-19"] { #expect(days.contains(day)) }
        #expect(!days.contains("2026-11-24"))
    }

    @Test("files in the older language load as the same program, with the same version")
    func olderLanguage() throws {
        var files = try demoFiles()
        let version = try RulesParser.parse(files: files).version
        files["walk.yaml"] = "id: walk-bands\nevent: walk\nname: {ja: ウォーキング, en: Walking}\nconditions:\n  stepsMin: 2_000\n"
            + "points:\n  perBand: {steps: 2_000, points: 1}\ncaps:\n  pointsPerDayMax: 5\nfunding:\n  health-office: 100\nreason:\n"
            + "  ja: \"{date}に{steps}歩（2,000歩ごとに1ポイント、1日5ポイントまで）\"\n  en: \"{steps} steps on {date} (1 point per 2,000 steps, up to 5 a day)\"\n"
        files["transit.yaml"] = files["transit.yaml"]!.replacingOccurrences(of: "trigger:", with: "event:")
            .replacingOccurrences(of: "mode:", with: "modes:").replacingOccurrences(of: "limits:\n  - {per: day, count: 4}", with: "caps:\n  countPerDayMax: 4")
            .replacingOccurrences(of: "50%", with: "50")
        #expect(try RulesParser.parse(files: files).version == version)
    }
}

@Suite("Stored rulesets")
struct StoredRulesetTests {
    /// The tests' program as the first rule language stored it (fixed fields, no calendar): what the
    /// database of an Ayumi before the rules engine holds as its active ruleset.
    func olderJSON(_ ruleset: Ruleset) throws -> String {
        var root = try JSONSerialization.jsonObject(with: Data(ruleset.canonicalJSON.utf8)) as! [String: Any]
        root.removeValue(forKey: "holidays")
        root["rules"] = (root["rules"] as! [[String: Any]]).map { rule -> [String: Any] in
            var old = rule.filter { ["id", "name", "funding", "reason"].contains($0.key) }
            old["event"] = rule["trigger"]
            switch rule["id"] as! String {
            case "walk-bands":
                old["stepsMin"] = 2_000
                old["points"] = ["perBand": ["steps": 2_000, "points": 1]]
                old["pointsPerDayMax"] = 5
            case "metro-ride":
                old["modes"] = ["bus", "tram", "train"]
                old["points"] = ["fixed": ["_0": 1]]
                old["countPerDayMax"] = 4
            default:
                old["zones"] = ["centre"]
                old["points"] = ["fixed": ["_0": 2]]
                old["countPerDayMax"] = 1
            }
            return old
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: root), as: UTF8.self)
    }

    @Test("a ruleset an older Ayumi stored reads as the same rules, so maintenance commands work before the next start")
    func olderStoredRuleset() throws {
        let current = try RulesParser.load(directory: rulesDirectory)
        let older = try Ruleset(canonicalJSON: try olderJSON(current))
        #expect(older.rules == current.rules)
        #expect(older.holidays.isEmpty)
        #expect(try Ruleset(canonicalJSON: current.canonicalJSON) == current)
    }
}

@Suite("Rules engine: explain")
struct ExplainTests {
    @Test("every rule of the trigger is listed: fired with its split, lost in its group, limit reached, condition not met")
    func explainLines() throws {
        let group = "group: {id: centre, pick: best}"
        let engine = try evaluator(adding: [
            "centre-visit.yaml": try demoFiles()["centre-visit.yaml"]!.replacingOccurrences(of: "conditions:", with: group + "\nconditions:"),
            "weekend-visit.yaml": visitRule("  zone: [centre]\n  days: [weekend, holiday]", id: "weekend-visit", extra: group),
            "senior-visit.yaml": visitRule("  zone: [centre]\n  age: {min: 80}", id: "senior-visit"),
            "capped-visit.yaml": visitRule("  zone: [centre]", id: "capped-visit", extra: "limits:\n  - {per: day, count: 1}"),
        ])
        let saturday = tokyo(12, day: 3)
        let capped = CounterKey(subject: .resident("r-1"), name: "capped-visit", period: LocalDate("2026-11-28")!.dayNumber)
        let explanation = engine.explain(Event(id: "v", residentID: "r-1", detail: .visit(at: saturday, zone: "centre")),
                                         from: .feed("checkin-feed"), resident: resident, counters: [capped: Counter(points: 3, count: 1)],
                                         now: saturday.addingTimeInterval(60))
        #expect(explanation.lines.map { "\($0.fired ? "+" : "-") \($0.ruleID): \($0.detail.en)" } == [
            "- capped-visit: limit reached: 1 award a day",
            "- centre-visit: would pay 2 points, but group centre picks weekend-visit",
            "- senior-visit: not met: needs at least 80 years of age",
            "+ weekend-visit: awards 3 points; funded by health-office 3",
        ])
        #expect(explanation.points == 3)
        #expect(explanation.otherRules == 2)
        #expect(explanation.text(.ja).contains("- senior-visit (追加): 条件を満たさない（年齢80歳以上）"))
    }
}

@Suite("Rules engine: budgets")
struct BudgetTests {
    func engine(_ sponsor: String, _ budget: String) throws -> Evaluator {
        var files = try demoFiles()
        files["sponsors.yaml"] = files["sponsors.yaml"]!.replacingOccurrences(of: "  - id: \(sponsor)\n", with: "  - id: \(sponsor)\n    budgets: [\(budget)]\n")
        return Evaluator(ruleset: try RulesParser.parse(files: files))
    }

    @Test("stop: an award a budget cannot pay in full is not made, and the answer names the budget")
    func stop() throws {
        let engine = try engine("metro-company", "{per: day, points: 3, onExhausted: stop}")
        let key = CounterKey(subject: .sponsor("metro-company"), name: "budget/day", period: today.dayNumber)
        let tap = Event(id: "t", residentID: "r-1", detail: .transitTap(at: noon, mode: "bus", route: "r10", stop: "s1"))
        #expect(engine.counterKeys(for: tap, now: noon).contains(key))
        // The carried split gives this tap's point to the operator (the city paid the one before).
        let split = CounterKey(subject: .sponsor("health-office"), name: "metro-ride/split:health-office=50:metro-company=50", period: 0)
        let refused = engine.evaluate(tap, resident: resident, counters: [key: Counter(points: 3, count: 3), split: Counter(points: 1, count: 1)], now: noon)
        guard case .accepted(let none, let note) = refused.outcome else { Issue.record("expected accepted"); return }
        #expect(none.isEmpty)
        #expect(note?.en == "No points: the budget of Test Metro Co. (3 points a day) is spent")
        #expect(note?.ja == "試験メトロ株式会社の予算（1日3ポイント）を使い切ったため、ポイントは付与されません")
        // With room, the award is made and the budget's counter is added to, guarded at the budget.
        let paid = engine.evaluate(tap, resident: resident, counters: [key: Counter(points: 2, count: 2), split: Counter(points: 1, count: 1)], now: noon)
        #expect(awards(paid).map(\.points) == [1])
        #expect(paid.deltas.contains(CounterDelta(key: key, points: 1, count: 1, pointsMax: 3)))
    }

    @Test("scale: an award is lowered to what the budget can still pay, and the reason says so")
    func scale() throws {
        let engine = try engine("health-office", "{per: month, points: 100, onExhausted: scale}")
        let key = CounterKey(subject: .sponsor("health-office"), name: "budget/month", period: 2026 * 12 + 10)
        let walk = Event(id: "w", residentID: "r-1", detail: .walk(date: today, steps: 12_000, source: "phone"))
        let evaluation = engine.evaluate(walk, resident: resident, counters: [key: Counter(points: 98, count: 40)], now: noon)
        let award = try #require(awards(evaluation).first)
        #expect(award.points == 2)
        #expect(award.cappedBy == -1)
        #expect(award.reason.en.hasSuffix(" (reduced by the budget of Test City Health Office, 100 points a month)"))
        #expect(evaluation.deltas.contains(CounterDelta(key: key, points: 2, count: 1, pointsMax: 100)))
        // Nothing left: no award.
        #expect(awards(engine.evaluate(walk, resident: resident, counters: [key: Counter(points: 100, count: 41)], now: noon)).isEmpty)
    }

    @Test("pend: an award this month's budget cannot pay is made whole, held until the 1st, and paid from next month's budget")
    func pend() throws {
        let engine = try engine("health-office", "{per: month, points: 100, onExhausted: pend}")
        let november = CounterKey(subject: .sponsor("health-office"), name: "budget/month", period: 2026 * 12 + 10)
        let december = CounterKey(subject: .sponsor("health-office"), name: "budget/month", period: 2026 * 12 + 11)
        let walk = Event(id: "w", residentID: "r-1", detail: .walk(date: today, steps: 12_000, source: "phone"))
        #expect(Set(engine.counterKeys(for: walk, now: noon)).isSuperset(of: [november, december]), "the store loads both months' budgets")
        // Room this month: paid at once.
        let now = engine.evaluate(walk, resident: resident, counters: [november: Counter(points: 95, count: 40)], now: noon)
        #expect(awards(now).map(\.availableOn) == [nil])
        #expect(now.deltas.contains(CounterDelta(key: november, points: 5, count: 1, pointsMax: 100)))
        // 2 points left: the 5 wait until 2026-12-01 (6 days after the 25th) and December's budget pays them.
        let held = engine.evaluate(walk, resident: resident, counters: [november: Counter(points: 98, count: 41)], now: noon)
        let award = try #require(awards(held).first)
        #expect(award.points == 5)
        #expect(award.availableOn == LocalDate("2026-12-01"))
        #expect(award.cappedBy == 0, "the walk's own limit of 5 a day; the budget reduced nothing")
        #expect(held.deltas.contains(CounterDelta(key: december, points: 5, count: 1, pointsMax: 100)))
        #expect(!held.deltas.contains { $0.key == november })
        let explanation = engine.explain(walk, from: .resident("r-1"), resident: resident, counters: [november: Counter(points: 98, count: 41)], now: noon)
        #expect(explanation.lines.first { $0.fired }?.detail.en.contains("(held as pending until 2026-12-01, paid from the next period's budget: this one is spent)") == true)
        // Next month's spent too: no award, and the answer names the budget.
        let refused = engine.evaluate(walk, resident: resident, counters: [november: Counter(points: 98, count: 41), december: Counter(points: 99, count: 9)], now: noon)
        guard case .accepted(let none, let note) = refused.outcome else { Issue.record("expected accepted"); return }
        #expect(none.isEmpty)
        #expect(note?.en == "No points: the budget of Test City Health Office (100 points a month) is spent")
    }

    @Test("pend on a budget whose held points could outlive their expiry is an error at onExhausted")
    func pendPastExpiry() throws {
        var files = try demoFiles()
        files["program.yaml"] = files["program.yaml"]!.replacingOccurrences(of: "pointExpiryMonths: 12", with: "pointExpiryMonths: 2")
        files["sponsors.yaml"] = files["sponsors.yaml"]!.replacingOccurrences(
            of: "  - id: traders\n", with: "  - id: traders\n    budgets: [{per: month, points: 3, onExhausted: pend}]\n")
        let failure = try #require(throws: RulesCheckFailure.self) { try RulesParser.parse(files: files) }
        #expect(failure.diagnostics.map(\.message) == ["points held until the next month could expire first: an event 31 days late "
                                                        + "(eventAgeDaysMax) waits up to 62 days, and points live 2 months (pointExpiryMonths): "
                                                        + "write stop or scale, or a shorter period"])
        files["sponsors.yaml"] = files["sponsors.yaml"]!.replacingOccurrences(of: "per: month, points: 3, onExhausted: pend", with: "per: week, points: 3, onExhausted: pend")
        #expect(throws: Never.self) { try RulesParser.parse(files: files) }
    }

    @Test("the next period of a budget begins on the next day, Monday, or the 1st", arguments: [
        (Limit.Period.day, "2026-12-31", "2027-01-01"), (.week, "2026-11-25", "2026-11-30"), (.week, "2026-11-30", "2026-12-07"),
        (.month, "2026-12-31", "2027-01-01"), (.month, "2026-02-01", "2026-03-01"),
    ])
    func nextPeriod(period: Limit.Period, date: String, next: String) {
        #expect(Evaluator.nextPeriod(period, after: LocalDate(date)!) == LocalDate(next)!)
    }

    @Test("two awards of one event draw on the same budget: the second gets what the first left")
    func twoAwardsOneBudget() throws {
        var files = try demoFiles()
        files["sponsors.yaml"] = files["sponsors.yaml"]!.replacingOccurrences(
            of: "  - id: health-office\n", with: "  - id: health-office\n    budgets: [{per: day, points: 6, onExhausted: scale}]\n")
        files["extra.yaml"] = "id: extra\ntrigger: walk\nname: {ja: 追加, en: Extra}\npoints:\n  fixed: 3\nfunding:\n  health-office: 100%\n"
            + "reason: {ja: a, en: a}\n"
        let engine = Evaluator(ruleset: try RulesParser.parse(files: files))
        let evaluation = engine.evaluate(Event(id: "w", residentID: "r-1", detail: .walk(date: today, steps: 12_000, source: "phone")),
                                         resident: resident, counters: [:], now: noon)
        #expect(awards(evaluation).map { "\($0.ruleID):\($0.points)" } == ["extra:3", "walk-bands:3"], "rules in file order: extra.yaml, then walk.yaml")
        let key = CounterKey(subject: .sponsor("health-office"), name: "budget/day", period: today.dayNumber)
        #expect(evaluation.deltas.filter { $0.key == key }.map(\.points) == [3, 3])
    }

    @Test("budget errors are reported at their place", arguments: [
        ("{per: day, points: 3, onExhausted: pause}", "onExhausted must be one of: stop, scale, pend"),
        ("{per: program, points: 3, onExhausted: pend}", "onExhausted: pend holds points until the budget's next period; a program budget has none: "
            + "write stop or scale, or budget per day, week or month"),
        ("{per: day, points: 3, onExhausted: stop}, {per: day, points: 5, onExhausted: stop}", "a second budget per day"),
        ("{per: year, points: 3, onExhausted: stop}", "per must be one of: day, week, month, program"),
    ])
    func errors(budget: String, message: String) throws {
        var files = try demoFiles()
        files["sponsors.yaml"] = files["sponsors.yaml"]!.replacingOccurrences(of: "  - id: traders\n", with: "  - id: traders\n    budgets: [\(budget)]\n")
        let failure = try #require(throws: RulesCheckFailure.self) { try RulesParser.parse(files: files, displayPrefix: "Rules/") }
        #expect(failure.diagnostics.map(\.message) == [message])
    }
}

@Suite("Rules engine: campaigns")
struct CampaignTests {
    static let campaigns = """
        campaigns:
          - id: autumn
            name: {ja: 秋のウォーキング, en: Autumn walking}
            from: 2026-11-20
            to: 2026-11-30
            percent: 200
            rules: [walk-bands]
        """

    func engine(_ walkLimits: String? = nil) throws -> Evaluator {
        var files = try demoFiles()
        files["campaigns.yaml"] = Self.campaigns
        if let walkLimits { files["walk.yaml"] = files["walk.yaml"]!.replacingOccurrences(of: "  - {per: day, points: 5}", with: walkLimits) }
        return Evaluator(ruleset: try RulesParser.parse(files: files))
    }

    func walk(_ engine: Evaluator, on date: LocalDate, counters: [CounterKey: Counter] = [:]) -> Evaluation {
        engine.evaluate(Event(id: "w", residentID: "r-1", detail: .walk(date: date, steps: 4_000, source: "phone")),
                        resident: resident, counters: counters, now: noon)
    }

    @Test("a campaign multiplies its rules' points on its days, and the reason names it")
    func multiplier() throws {
        let engine = try engine()
        let inside = try #require(awards(walk(engine, on: today)).first)
        #expect(inside.points == 4)
        #expect(inside.reason.en == "4000 steps on 2026-11-25 (1 point per 2,000 steps, up to 5 a day) (Autumn walking, 200%)")
        #expect(inside.reason.ja.hasSuffix("（秋のウォーキング 200%）"))
        let before = try #require(awards(walk(engine, on: LocalDate("2026-11-19")!)).first)
        #expect(before.points == 2)
        #expect(!before.reason.en.contains("Autumn"))
    }

    @Test("a per: campaign limit counts only the campaign's days")
    func campaignLimit() throws {
        let engine = try engine("  - {per: day, points: 5}\n  - {per: campaign, campaign: autumn, points: 10}")
        let key = CounterKey(subject: .resident("r-1"), name: "walk-bands/campaign:autumn:2026-11-20", period: 0)
        #expect(awards(walk(engine, on: today, counters: [key: Counter(points: 8, count: 2)])).map(\.points) == [2])
        let outside = walk(engine, on: LocalDate("2026-11-19")!, counters: [key: Counter(points: 10, count: 3)])
        #expect(awards(outside).map(\.points) == [2])
        #expect(!outside.deltas.contains { $0.key == key })
    }

    @Test("campaign mistakes are reported at their place", arguments: [
        ("rules: [walk-bands]", "rules: [walk-band]", "campaigns.yaml", "unknown rule 'walk-band'; did you mean 'walk-bands'?"),
        ("to: 2026-11-30", "to: 2026-11-10", "campaigns.yaml", "the campaign ends (2026-11-10) before it starts (2026-11-20)"),
        ("percent: 200", "percent: 1001", "campaigns.yaml", "expected a whole number from 100 to 1,000"),
    ])
    func errors(original: String, replacement: String, file: String, message: String) throws {
        var files = try demoFiles()
        files["campaigns.yaml"] = Self.campaigns.replacingOccurrences(of: original, with: replacement)
        let failure = try #require(throws: RulesCheckFailure.self) { try RulesParser.parse(files: files, displayPrefix: "Rules/") }
        #expect(failure.diagnostics.map { "\($0.file.hasSuffix(file)) \($0.message)" } == ["true \(message)"])
    }

    @Test("runs in program.yaml: a campaign or draw outside the program's days is an error at the date that crosses", arguments: [
        ("runs: {from: 2026-11-21}", ["campaigns.yaml:4:11: error: the campaign starts (2026-11-20) before the program does: program.yaml runs 2026-11-21 to the end"]),
        ("runs: {from: 2026-04-01, to: 2026-11-29}", [
            "campaigns.yaml:5:9: error: the campaign ends (2026-11-30) after the program does: program.yaml runs 2026-04-01 to 2026-11-29",
            "draws.yaml:5:9: error: the draw's period ends (2026-12-31) after the program does: program.yaml runs 2026-04-01 to 2026-11-29",
        ]),
        ("runs: {to: 2026-12-30}", ["draws.yaml:5:9: error: the draw's period ends (2026-12-31) after the program does: program.yaml runs the start to 2026-12-30"]),
    ])
    func outsideTheProgram(runs: String, expected: [String]) throws {
        var files = try demoFiles()
        files["program.yaml"]! += runs + "\n"
        files["campaigns.yaml"] = Self.campaigns
        files["draws.yaml"] = "draws:\n  - id: winter\n    name: {ja: 冬, en: Winter}\n    from: 2026-12-01\n    to: 2026-12-31\n"
            + "    pointsMin: 200\n    prizes: 1\n    prizePoints: 500\n    sponsor: traders\n"
        let found = try EngineCheckTests().diagnostics(files)
        #expect(found == expected.map { "Rules/" + $0 }, "\(found)")
    }

    @Test("runs: activity outside the program's days is rejected with the days; a dates window outside them can never fire")
    func programDays() throws {
        var files = try demoFiles()
        files["program.yaml"]! += "runs: {from: 2026-04-01, to: 2026-11-24}\n"
        files["extra.yaml"] = visitRule("  dates: {from: 2026-12-01}")
        let (ruleset, warnings) = try RulesParser.check(files: files, displayPrefix: "Rules/")
        #expect(warnings.map(\.description) == ["Rules/extra.yaml:5:10: warning: this rule can never fire: the window lies outside the "
                                                 + "program's days (program.yaml runs 2026-04-01 to 2026-11-24)"])
        let engine = Evaluator(ruleset: ruleset)
        let evaluation = walk(engine, on: today)
        guard case .rejected(let reason) = evaluation.outcome else { Issue.record("expected rejected"); return }
        #expect(reason.en == "The activity is outside the program's days (2026-04-01 to 2026-11-24)")
        #expect(reason.ja == "実施期間（2026-04-01〜2026-11-24）外の活動です")
        #expect(awards(walk(engine, on: today.adding(days: -1))).map(\.points) == [2])
    }

    @Test("a limit naming an unknown campaign, and a budget per campaign, are errors")
    func references() throws {
        var files = try demoFiles()
        files["campaigns.yaml"] = Self.campaigns
        files["walk.yaml"] = files["walk.yaml"]!.replacingOccurrences(of: "{per: day, points: 5}", with: "{per: campaign, campaign: autumm, points: 5}")
        var failure = try #require(throws: RulesCheckFailure.self) { try RulesParser.parse(files: files) }
        #expect(failure.diagnostics.map(\.message) == ["unknown campaign 'autumm'; did you mean 'autumn'?"])
        files = try demoFiles()
        files["sponsors.yaml"] = files["sponsors.yaml"]!.replacingOccurrences(of: "  - id: traders\n",
                                                                              with: "  - id: traders\n    budgets: [{per: campaign, points: 3, onExhausted: stop}]\n")
        failure = try #require(throws: RulesCheckFailure.self) { try RulesParser.parse(files: files) }
        #expect(failure.diagnostics.map(\.message) == ["per must be one of: day, week, month, program"])
    }
}

@Suite("Rules engine: streaks and milestones")
struct ComputedTriggerTests {
    func engine(_ rule: String) throws -> Evaluator { try evaluator(adding: ["goal.yaml": rule]) }

    static let streak = """
        id: streak
        trigger: streak
        name: {ja: 3日連続, en: Three days in a row}
        streak: {days: 3}
        conditions:
          steps: {min: 8_000}
        points: {fixed: 10}
        funding: {health-office: 100%}
        reason: {ja: "{date}", en: "{date}"}
        """

    func walk(_ engine: Evaluator, _ date: LocalDate, steps: Int64 = 9_000, counters: [CounterKey: Counter]) -> Evaluation {
        engine.evaluate(Event(id: "w", residentID: "r-1", detail: .walk(date: date, steps: steps, source: "p")), resident: resident,
                        counters: counters, now: noon)
    }

    @Test("a streak pays on its third consecutive qualifying day; a gap starts again; the same day twice counts once")
    func streak() throws {
        let engine = try engine(Self.streak)
        let key = CounterKey(subject: .resident("r-1"), name: "streak/streak", period: 0)
        let d = today.dayNumber
        func state(lastDay: Int, length: Int64) -> [CounterKey: Counter] { [key: Counter(points: Int64(lastDay + 1), count: length)] }
        #expect(points(walk(engine, today, counters: [:]), rule: "streak") == 0)
        #expect(walk(engine, today, counters: [:]).deltas.contains(CounterDelta(key: key, points: Int64(d + 1), count: 1,
                                                                                 pointsMax: Int64(d + 1), countMax: 1)))
        #expect(points(walk(engine, today, counters: state(lastDay: d - 1, length: 1)), rule: "streak") == 0)
        #expect(points(walk(engine, today, counters: state(lastDay: d - 1, length: 2)), rule: "streak") == 10)
        // A gap: the run starts again at 1 (the count goes back by the old length less one).
        let gap = walk(engine, today, counters: state(lastDay: d - 2, length: 2))
        #expect(points(gap, rule: "streak") == 0)
        #expect(gap.deltas.first { $0.key == key }?.count == -1)
        // The same day again, or an earlier one: nothing changes.
        #expect(walk(engine, today, counters: state(lastDay: d, length: 2)).deltas.allSatisfy { $0.key != key })
        // A day that does not qualify does not count.
        #expect(walk(engine, today, steps: 5_000, counters: state(lastDay: d - 1, length: 2)).deltas.allSatisfy { $0.key != key })
    }

    @Test("a step milestone pays when the running total passes a multiple, each day counted at its largest report; a ride milestone every Nth tap")
    func milestones() throws {
        let steps = try engine(Self.streak.replacingOccurrences(of: "trigger: streak", with: "trigger: milestone")
            .replacingOccurrences(of: "streak: {days: 3}", with: "milestone: {steps: 10_000}").replacingOccurrences(of: "id: streak", with: "id: steps"))
        let day = CounterKey(subject: .resident("r-1"), name: "steps/steps", period: today.dayNumber)
        let total = CounterKey(subject: .resident("r-1"), name: "steps/total", period: 0)
        let crossing = walk(steps, today, counters: [day: Counter(points: 3_000, count: 1), total: Counter(points: 8_000, count: 3)])
        #expect(points(crossing, rule: "steps") == 10)
        #expect(crossing.deltas.contains(CounterDelta(key: total, points: 6_000, count: 1, pointsMax: 14_000)))
        #expect(points(walk(steps, today, counters: [day: Counter(points: 3_000, count: 1), total: Counter(points: 3_000, count: 1)]),
                       rule: "steps") == 0)

        let rides = try engine("""
            id: rides
            trigger: milestone
            name: {ja: 乗車, en: Rides}
            milestone: {rides: 3}
            points: {fixed: 5}
            funding: {health-office: 100%}
            reason: {ja: "{date}", en: "{date}"}
            """)
        let key = CounterKey(subject: .resident("r-1"), name: "rides/total", period: 0)
        let tap = Event(id: "t", residentID: "r-1", detail: .transitTap(at: noon, mode: "bus", route: "r", stop: "s"))
        #expect(points(rides.evaluate(tap, resident: resident, counters: [key: Counter(points: 0, count: 2)], now: noon), rule: "rides") == 5)
        #expect(points(rides.evaluate(tap, resident: resident, counters: [key: Counter(points: 0, count: 3)], now: noon), rule: "rides") == 0)
    }

    @Test("computed triggers pay fixed points")
    func fixedOnly() throws {
        var files = try demoFiles()
        files["goal.yaml"] = Self.streak.replacingOccurrences(of: "points: {fixed: 10}", with: "points: {per: {steps: 1_000, points: 1, round: down}}")
        let failure = try #require(throws: RulesCheckFailure.self) { try RulesParser.parse(files: files) }
        #expect(failure.diagnostics.map(\.message) == ["a streak or milestone pays fixed points"])
    }
}

@Suite("Rules engine: hostile and inconsistent files")
struct HostileFileTests {
    @Test("anchors and aliases are refused before parsing: a few lines of them would expand to billions of nodes")
    func aliases() throws {
        var files = try demoFiles()
        files["walk.yaml"] = "a: &a [x, x, x]\nb: &b [*a, *a, *a]\n" + files["walk.yaml"]!
        let failure = try #require(throws: RulesCheckFailure.self) { try RulesParser.parse(files: files, displayPrefix: "Rules/") }
        #expect(failure.description.hasPrefix("Rules/walk.yaml:1:4: error: anchors and aliases (&name, *name) are not accepted"))
        // In quotes or comments they are text.
        files = try demoFiles()
        files["walk.yaml"] = "# &anchor in a comment\n" + files["walk.yaml"]!.replacingOccurrences(of: "en: \"{steps} steps", with: "en: \"*{steps} steps")
        #expect(throws: Never.self) { try RulesParser.parse(files: files) }
    }

    @Test("points held longer than they live, and a campaign's limit taken as a bound on other days, are errors")
    func inconsistent() throws {
        var files = try demoFiles()
        files["walk.yaml"] = files["walk.yaml"]! + "pendingDays: 365\n"
        var failure = try #require(throws: RulesCheckFailure.self) { try RulesParser.parse(files: files) }
        #expect(failure.diagnostics.map(\.message) == ["points held 365 days could expire before they are released (pointExpiryMonths: 12): hold them fewer days"])
        files = try demoFiles()
        files["campaigns.yaml"] = CampaignTests.campaigns
        files["walk.yaml"] = files["walk.yaml"]!.replacingOccurrences(of: "per: {steps: 2_000, points: 1, round: down}", with: "per: {steps: 1_000, points: 10_000, round: down}")
            .replacingOccurrences(of: "{per: day, points: 5}", with: "{per: campaign, campaign: autumn, points: 50_000}")
        failure = try #require(throws: RulesCheckFailure.self) { try RulesParser.parse(files: files) }
        #expect(failure.diagnostics.first?.message.hasPrefix("one event could earn") == true)
    }
}

@Suite("YAML anchors and aliases")
struct AnchorScanTests {
    @Test("anchors and aliases are found where a node begins, whatever text comes before", arguments: [
        ("a: &x 1\n", 1, 4), ("a: [*x]\n", 1, 5), ("- *x\n", 1, 3), ("en: Let's walk\nb: &y [1]\n", 2, 4),
        ("a: \"say \\\"hi\\\"\"\nb: *x\n", 2, 4), ("# comment\r\nb: &z 1\r\n", 2, 4), ("a: {k: *x}\n", 1, 8),
    ])
    func found(text: String, line: Int, column: Int) {
        #expect(YAMLValue.anchorOrAlias(in: text).map { [$0.line, $0.column] } == [line, column])
    }

    @Test("text that only looks like them is not refused", arguments: [
        "a: walk &run\n", "a: a-*b\n", "a: ratio:*x\n", "a: 2 * 3\n", "a: '*quoted'\n", "a: \"&quoted\"\n", "a: |\n  *bold* text\n  &more\nb: 1\n",
        "a: 'it''s &x'\n", "a: x # *comment\n", "a: \"multi\n  *line\"\n",
    ])
    func text(text: String) {
        #expect(YAMLValue.anchorOrAlias(in: text) == nil)
    }
}

@Suite("Rules engine: properties")
struct EnginePropertyTests {
    /// A tap rule with 1 to 3 random limits (day, week, month or program; points or count; per
    /// resident or for everyone) and a random daily budget of the city (stop, scale or pend), fed
    /// 3,000 taps of 5 residents over 60 days with counters kept as the store keeps them.
    @Test("property: no limit or budget is ever exceeded, every guard holds, and funding adds up", arguments: Array(UInt64(1)...20))
    func limitsHold(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let periods = ["day", "week", "month", "program"]
        var limits: [(period: Limit.Period, metric: String, max: Int64, everyone: Bool)] = []
        for _ in 0..<Int(random.next() % 3 + 1) {
            let period = Limit.Period(rawValue: periods[Int(random.next() % 4)])!
            guard !limits.contains(where: { $0.period == period }) else { continue }
            let everyone = random.next() % 3 == 0, count = random.next() % 2 == 0
            limits.append((period, count ? "count" : "points", Int64(random.next() % 40 + 5) * (everyone ? 5 : 1), everyone))
        }
        let fixed = Int64(random.next() % 5 + 1)
        let yamlLimits = limits.map { "  - {per: \($0.period.rawValue), \($0.metric): \($0.max)\($0.everyone ? ", scope: program" : "")}" }
        let rule = "id: extra\ntrigger: transit_tap\nname: {ja: 追加, en: Extra}\npoints:\n  fixed: \(fixed)\nlimits:\n"
            + yamlLimits.joined(separator: "\n") + "\nfunding:\n  health-office: 50%\n  traders: 50%\nreason: {ja: a, en: a}\n"
        let exhausted = ["stop", "scale", "pend"][Int(random.next() % 3)]
        let budget = Int64(random.next() % 30 + 10)
        var files = try demoFiles()
        files["extra.yaml"] = rule
        files["sponsors.yaml"] = files["sponsors.yaml"]!.replacingOccurrences(
            of: "  - id: health-office\n", with: "  - id: health-office\n    budgets: [{per: day, points: \(budget), onExhausted: \(exhausted)}]\n")
        let engine = Evaluator(ruleset: try RulesParser.parse(files: files))
        let residents = (0..<5).map { Resident(id: "r-\($0)", birthYear: 1950, district: "14101", enrolledOn: LocalDate("2026-01-01")!) }
        var counters: [CounterKey: Counter] = [:]
        var paid: [String: Int64] = [:]   // "limit index|subject|period" → points or awards
        var at = noon
        for index in 0..<3_000 {
            at = at.addingTimeInterval(Double(random.next() % 3_456))   // 60 days on average
            let who = residents[Int(random.next() % 5)]
            let tap = Event(id: "t-\(index)", residentID: who.id, detail: .transitTap(at: at, mode: "bus", route: "r", stop: "s"))
            let evaluation = engine.evaluate(tap, from: .feed("metro-feed"), resident: who, counters: counters, now: at.addingTimeInterval(60))
            for delta in evaluation.deltas {
                var counter = counters[delta.key] ?? .zero
                counter.points += delta.points
                counter.count += delta.count
                if let max = delta.pointsMax, counter.points > max { Issue.record("seed \(seed): \(delta.key) passes its points guard \(max)"); return }
                if let max = delta.countMax, counter.count > max { Issue.record("seed \(seed): \(delta.key) passes its count guard \(max)"); return }
                counters[delta.key] = counter
            }
            let date = engine.localDate(of: tap)
            for award in awards(evaluation) {
                #expect(award.funding.reduce(0) { $0 + $1.points } == award.points)
                guard award.ruleID == "extra" else { continue }
                for (position, limit) in limits.enumerated() {
                    let key = "\(position)|\(limit.everyone ? "all" : who.id)|\(Evaluator.period(limit.period, of: date))"
                    paid[key, default: 0] += limit.metric == "count" ? 1 : award.points
                    if paid[key]! > limit.max { Issue.record("seed \(seed): \(yamlLimits[position]) passed: \(paid[key]!)"); return }
                }
            }
        }
        // Every budget day's counter is within the budget, whichever day the points were paid from.
        for (key, counter) in counters where key.name == "budget/day" { #expect(counter.points <= budget) }
        #expect(paid.values.contains { $0 > 0 }, "the rule paid something")
    }
}
