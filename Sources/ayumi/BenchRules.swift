import ArgumentParser
import AyumiBootstrap
import AyumiCore
import AyumiRules
import AyumiServices
import Foundation
import Logging
import Synchronization

extension Bench {
    struct Rules: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rule evaluations per second on one core: the demo program, and the same with generated rules.",
            discussion: """
                Evaluates --evaluations synthetic events (60% walks, 30% transit taps, 10% downtown visits, residents of \
                varied ages and districts, cycling through at most 100,000 distinct events, no counters yet) with the pure \
                rules engine on one thread, twice: deciding only (awards, funding, counter changes: what a backtest needs) \
                and with every award's reason worded in both languages (what ingest answers), \
                first with the program in --rules, then with --generated more rules (walk, tap and visit rules with \
                condition trees, time windows, day kinds, age bands, districts, limits and funding splits) added to it. \
                Nothing is stored. The stream is the same for the same --seed.
                """)

        @Option(name: .customLong("rules"), help: "Rules directory.") var rulesDirectory = "Rules"
        @Option(help: "Evaluations per run.") var evaluations = 1_000_000
        @Option(help: "Generated rules added for the second run.") var generated = 200
        @Option(help: "Seed of the event stream.") var seed: UInt64 = 1

        func validate() throws {
            guard evaluations > 0 else { throw ValidationError("--evaluations must be above zero") }
            guard generated >= 0 else { throw ValidationError("--generated must not be negative") }
        }

        func run() throws {
            let base = try RulesParser.load(directory: rulesDirectory)
            try measure(base, label: "\(base.rules.count) rules (\(rulesDirectory))")
            guard generated > 0 else { return }
            let files = try Self.files(of: rulesDirectory).merging(Self.generatedRules(generated)) { _, new in new }
            let large = try RulesParser.parse(files: files, displayPrefix: rulesDirectory + "/")
            try measure(large, label: "\(large.rules.count) rules (\(base.rules.count) + \(generated) generated)")
        }

        func measure(_ ruleset: Ruleset, label: String) throws {
            let evaluator = Evaluator(ruleset: ruleset)
            var generator = SplitMix64(seed: seed)
            let now = Date(timeIntervalSince1970: 1_795_575_600)  // 2026-11-25 12:00 in Tokyo
            let today = LocalDate(instant: now, timeZone: evaluator.timeZone)
            let residents = (0..<1_000).map { index in
                Resident(id: "r-\(index)", birthYear: 1940 + index % 70, district: "141\(index % 18 < 10 ? "0" : "")\(index % 18)",
                         enrolledOn: today.adding(days: -(index % 400)))
            }
            // The events are made first, so that only evaluation is timed.
            let events = (0..<min(evaluations, 100_000)).map { number -> (Event, Submitter) in
                let resident = residents[Int(generator.next() % UInt64(residents.count))].id
                let instant = now.addingTimeInterval(-Double(generator.next() % 86_400 * 20))
                switch generator.next() % 10 {
                case 0..<6:
                    return (Event(id: "e-\(number)", residentID: resident, detail: .walk(date: today.adding(days: -Int(generator.next() % 20)),
                                                                                      steps: Int64(generator.next() % 14_000), source: "phone")),
                            .feed("step-gateway"))
                case 6..<9:
                    return (Event(id: "e-\(number)", residentID: resident,
                                  detail: .transitTap(at: instant, mode: ["bus", "tram", "train"][Int(generator.next() % 3)],
                                                      route: "r\(generator.next() % 12)", stop: "s\(generator.next() % 80)")),
                            .feed("transit-operator"))
                default:
                    return (Event(id: "e-\(number)", residentID: resident, detail: .visit(at: instant, zone: "downtown")), .feed("shop-checkin"))
                }
            }
            let residentByID = Dictionary(uniqueKeysWithValues: residents.map { ($0.id, $0) })
            let residentOf = events.map { residentByID[$0.0.residentID]! }
            var awards = 0
            var start = ContinuousClock.now
            for index in 0..<evaluations {
                let slot = index % events.count
                let decision = evaluator.decide(events[slot].0, from: events[slot].1, resident: residentOf[slot], counters: [:], now: now)
                if case .accepted(let made, _) = decision.outcome { awards += made.count }
            }
            var seconds = (ContinuousClock.now - start).seconds
            print("\(label): \(Int(Double(evaluations) / seconds)) decisions/s on one core, as a backtest judges "
                  + "(\(evaluations) in \(String(format: "%.2f", seconds)) s, \(awards) awards)")
            awards = 0
            start = ContinuousClock.now
            for index in 0..<evaluations {
                let slot = index % events.count
                let evaluation = evaluator.evaluate(events[slot].0, from: events[slot].1, resident: residentOf[slot], counters: [:], now: now)
                if case .accepted(let made, _) = evaluation.outcome { awards += made.count }
            }
            seconds = (ContinuousClock.now - start).seconds
            print("\(label): \(Int(Double(evaluations) / seconds)) evaluations/s on one core, reasons worded as ingest answers "
                  + "(\(evaluations) in \(String(format: "%.2f", seconds)) s, \(awards) awards)")
        }

        static func files(of directory: String) throws -> [String: String] {
            var files: [String: String] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasSuffix(".yaml") || name.hasSuffix(".geojson") {
                files[name] = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            }
            let calendar = directory + "/" + RulesParser.calendarDirectory
            for name in (try? FileManager.default.contentsOfDirectory(atPath: calendar)) ?? [] where name.hasSuffix(".yaml") {
                files[RulesParser.calendarDirectory + "/" + name] = try String(contentsOfFile: calendar + "/" + name, encoding: .utf8)
            }
            return files
        }

        /// Rules of the demo's sponsors and zone, each with a condition tree, a limit and a reason.
        static func generatedRules(_ count: Int) -> [String: String] {
            var files: [String: String] = [:]
            for index in 0..<count {
                let id = "generated-\(index)"
                let (trigger, conditions, points) = switch index % 3 {
                case 0: ("walk", "  steps: {min: \(1_000 + index % 10 * 500)}\n  age: {min: \(20 + index % 50)}\n  district: [\"1410\(index % 10)\", \"14111\"]",
                         "  per: {steps: \(1_000 + index % 4 * 500), points: 1, round: down}")
                case 1: ("transit_tap", "  mode: [bus, tram]\n  any:\n    - time: {from: \"07:00\", to: \"09:30\"}\n    - days: [weekend, holiday]\n"
                            + "  not:\n    route: [r\(index % 12)]", "  fixed: 1")
                default: ("visit", "  zone: [downtown]\n  days: [weekday]\n  enrolledDays: {max: \(30 + index)}", "  fixed: 2")
                }
                files["\(id).yaml"] = """
                    id: \(id)
                    trigger: \(trigger)
                    name: {ja: 生成ルール\(index), en: Generated rule \(index)}
                    conditions:
                    \(conditions)
                    points:
                    \(points)
                    limits:
                      - {per: day, points: 5}
                      - {per: week, count: 20}
                    funding:
                      city-health: \(index % 2 == 0 ? "100%" : "50%\n  minato-transit: 50%")
                    reason: {ja: "{date} 生成ルール\(index)", en: "Generated rule \(index) on {date}"}
                    """
            }
            return files
        }
    }
}

extension Bench {
    struct Backtest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time a backtest of stored events, reading included.",
            discussion: """
                Enrols --residents residents (of varied birth years and districts) and ingests --events events \
                over 28 local days (as `bench ingest` does, in batches of 8,192) into a temporary database, then \
                times the backtest of every stored event through the program in --rules, as `rules backtest` runs \
                it: reading every stored event and award share, replaying the events, adding up both sides. Prints \
                the time and the events replayed per second.
                """)

        @OptionGroup var city: StoredCity

        func run() async throws {
            let (ayumi, firstDay, directory) = try await city.populate()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let start = ContinuousClock.now
            let report = try await ayumi.reporting.backtest(ayumi.dependencies.program.current.ruleset, from: firstDay, to: firstDay.adding(days: 28))
            let seconds = (ContinuousClock.now - start).seconds
            print("backtest of \(report.events) stored events (\(report.actual.awards) awards in the ledger, \(report.candidate.awards) replayed): "
                  + "\(String(format: "%.2f", seconds)) s, \(Int(Double(report.events) / seconds)) events/s, reading included")
        }

    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time the beneficiary report and the monthly indicators over stored events, reading included.",
            discussion: """
                Builds the database `bench backtest` builds (--residents enrolled, --events over the 28 days after \
                their enrolment), then times `report beneficiaries` over the last --days of them (the ledger summary with its \
                suppression, the participants' baselines and every party's figures, the costs and the sharing) \
                and `report kpis` over their months, each built to the CSV a city would download. Prints the times.
                """)

        @OptionGroup var city: StoredCity
        @Option(help: "Report the last this many of the 28 days (a week of a month's data shows what the day indexes save).") var days = 28

        func validate() throws {
            guard (1...28).contains(days) else { throw ValidationError("--days: 1 to 28") }
        }

        func run() async throws {
            let (ayumi, firstDay, directory) = try await city.populate()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let lastDay = firstDay.adding(days: 27), reportFirstDay = lastDay.adding(days: 1 - days)
            var start = ContinuousClock.now
            let report = try await ayumi.reporting.beneficiaryReport(from: reportFirstDay, to: lastDay)
            let csv = report.csv(language: .ja)
            var seconds = (ContinuousClock.now - start).seconds
            print("beneficiary report \(reportFirstDay)...\(lastDay) over \(city.events) stored events (\(csv.utf8.count) bytes of CSV): "
                  + "\(String(format: "%.2f", seconds)) s, \(Int(Double(city.events) / seconds)) events/s, reading included")
            start = ContinuousClock.now
            let month = { (day: LocalDate) in String(format: "%04d-%02d", day.year, day.month) }
            let kpis = try await ayumi.reporting.kpis(from: month(firstDay), to: month(lastDay))
            _ = kpis.csv(.ja)
            seconds = (ContinuousClock.now - start).seconds
            print("indicators \(month(firstDay))...\(month(lastDay)) (\(kpis.months.count) months): \(String(format: "%.2f", seconds)) s")
        }
    }
}

/// The city the backtest and report benches store: residents enrolled, events over 28 days.
struct StoredCity: ParsableArguments {
    @Option(help: "Residents to enrol.") var residents = 10_000
    @Option(help: "Events to store.") var events = 1_000_000
    @Option(help: "Seed of the event stream.") var seed: UInt64 = 1
    @Option(name: .customLong("data-dir"), help: "Where to create the temporary database (default: the system's temporary directory).")
    var dataDirectory: String?
    @Option(name: .customLong("rules"), help: "Rules directory.") var rulesDirectory = "Rules"
    @Option(name: .customLong("merchants"), help: "Merchant registry.") var merchantsFile = "Merchants/merchants.yaml"

    func validate() throws {
        guard residents > 0, events > 0 else { throw ValidationError("--residents and --events must be above zero") }
    }

    /// A temporary database with `residents` enrolled (varied birth years and districts) and
    /// `events` ingested over the 28 local days after their enrolment, in batches of 8,192.
    func populate() async throws -> (Ayumi, firstDay: LocalDate, directory: String) {
        let parent = dataDirectory.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory
        let directory = parent.appendingPathComponent("ayumi-bench-\(UUID().uuidString)").path
        let enrolment = Date(timeIntervalSince1970: 1_790_000_000)
        let clock = Mutex(enrolment)
        let environment = AyumiEnvironment(now: { clock.withLock { $0 } }, randomBytes: AyumiEnvironment.live.randomBytes)
        do {
            let ayumi = try await Bootstrap.open(dataDirectory: directory, rulesDirectory: rulesDirectory, merchantsFile: merchantsFile,
                                                 environment: environment, logger: .init(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
            let residentIDs = (0..<residents).map { "bench-\($0)" }
            for (index, id) in residentIDs.enumerated() {
                _ = try await ayumi.residents.enrol(residentID: id, birthYear: 1940 + index % 70, district: "141\(10 + index % 18)")
            }
            clock.withLock { $0 = enrolment.addingTimeInterval(28 * 86_400) }
            var generator = SplitMix64(seed: seed)
            let firstDay = LocalDate(instant: enrolment, timeZone: ayumi.dependencies.program.current.evaluator.timeZone)
            let feeds: [Event.Kind: Principal] = [
                .walk: Principal(role: .ingest, subject: nil, feed: "step-gateway"),
                .transitTap: Principal(role: .ingest, subject: nil, feed: "transit-operator"),
                .visit: Principal(role: .ingest, subject: nil, feed: "shop-checkin"),
            ]
            let loadStart = ContinuousClock.now
            var sent = 0
            while sent < events {
                let count = min(Ingestion.eventsPerBatchMax, events - sent)
                let kind: Event.Kind = switch generator.next() % 10 {
                case 0..<6: .walk
                case 6..<9: .transitTap
                default: .visit
                }
                let batch = (0..<count).map { offset in
                    Bench.Ingest.event(kind, number: sent + offset, residentIDs: residentIDs, firstDay: firstDay, enrolment: enrolment, using: &generator)
                }
                _ = try await ayumi.ingestion.ingest(batch, by: feeds[kind]!)
                sent += count
            }
            print("stored \(events) events from \(residents) residents in \(String(format: "%.1f", (ContinuousClock.now - loadStart).seconds)) s")
            return (ayumi, firstDay, directory)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }
}
