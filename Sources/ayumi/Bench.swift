import ArgumentParser
import AyumiBootstrap
import AyumiCore
import AyumiServices
import AyumiStore
import Foundation
import Logging
import Synchronization

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure throughput on a fresh temporary database.",
                                                    subcommands: [Ingest.self, Redeem.self, Rules.self, Backtest.self, Report.self])

    struct Ingest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ingest synthetic events in batches through the same use case as POST /v1/events.",
            discussion: """
                Enrols --residents residents, then sends --events events over 28 local days in batches of --batch, \
                each batch from one feed as real feeds send them: 60% of batches walks (a step-data gateway), 30% \
                transit taps (the operator's feed), 10% downtown visits (the shops' check-in feed). It prints events \
                per second, the 50th and 99th percentile batch latency and the database's bytes per event (after a \
                checkpoint, indexes included). The database is created in a temporary directory and deleted (unless --keep) \
                afterwards. The event stream is the same for the same --seed.
                """)

        @Option(help: "Residents to enrol.") var residents = 10_000
        @Option(help: "Events to ingest.") var events = 200_000
        @Option(help: "Events per batch, one transaction each (at most 8,192; HTTP takes 1,000 a request).") var batch = 1_000
        @Option(help: "Seed of the event stream.") var seed: UInt64 = 1
        @Option(name: .customLong("data-dir"), help: "Where to create the temporary database (default: the system's temporary directory); the disk decides fsync latency.")
        var dataDirectory: String?
        @Option(name: .customLong("rules"), help: "Rules directory.") var rulesDirectory = "Rules"
        @Option(name: .customLong("merchants"), help: "Merchant registry.") var merchantsFile = "Merchants/merchants.yaml"
        @Flag(help: "Keep the data directory (its path is printed last) instead of deleting it, e.g. to time `ayumi serve` starting on it.")
        var keep = false

        func validate() throws {
            guard residents > 0, events > 0 else { throw ValidationError("--residents and --events must be above zero") }
            guard (1...Ingestion.eventsPerBatchMax).contains(batch) else {
                throw ValidationError("--batch must be between 1 and \(Ingestion.eventsPerBatchMax)")
            }
        }

        func run() async throws {
            let parent = dataDirectory.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory
            let directory = parent.appendingPathComponent("ayumi-bench-\(UUID().uuidString)").path
            defer { if !keep { try? FileManager.default.removeItem(atPath: directory) } }
            // Residents enrol on day 0; the events fall on days 0-27 and are ingested "on" day 28.
            let enrolment = Date(timeIntervalSince1970: 1_790_000_000)
            let clock = Mutex(enrolment)
            let environment = AyumiEnvironment(now: { clock.withLock { $0 } }, randomBytes: AyumiEnvironment.live.randomBytes)
            let ayumi = try await Bootstrap.open(dataDirectory: directory, rulesDirectory: rulesDirectory, merchantsFile: merchantsFile,
                                             environment: environment, logger: .init(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
            let residentIDs = (0..<residents).map { "bench-\($0)" }
            let setupStart = ContinuousClock.now
            for id in residentIDs { _ = try await ayumi.residents.enrol(residentID: id, birthYear: 1950 + id.count, district: "14101") }
            print("enrolled \(residents) residents in \(ContinuousClock.now - setupStart)")
            clock.withLock { $0 = enrolment.addingTimeInterval(28 * 86_400) }

            var generator = SplitMix64(seed: seed)
            let timeZone = ayumi.dependencies.program.current.evaluator.timeZone
            let firstDay = LocalDate(instant: enrolment, timeZone: timeZone)
            let feeds: [Event.Kind: Principal] = [
                .walk: Principal(role: .ingest, subject: nil, feed: "step-gateway"),
                .transitTap: Principal(role: .ingest, subject: nil, feed: "transit-operator"),
                .visit: Principal(role: .ingest, subject: nil, feed: "shop-checkin"),
            ]
            var latencies: [Duration] = []
            var accepted = 0, awarded: Int64 = 0
            let start = ContinuousClock.now
            var sent = 0
            while sent < events {
                let count = min(batch, events - sent)
                let kind: Event.Kind = switch generator.next() % 10 {
                case 0..<6: .walk
                case 6..<9: .transitTap
                default: .visit
                }
                let batchEvents = (0..<count).map { offset in
                    Self.event(kind, number: sent + offset, residentIDs: residentIDs, firstDay: firstDay, enrolment: enrolment,
                               using: &generator)
                }
                let batchStart = ContinuousClock.now
                let results = try await ayumi.ingestion.ingest(batchEvents, by: feeds[kind]!)
                latencies.append(ContinuousClock.now - batchStart)
                for result in results where result.status == IngestResult.Status.accepted {
                    accepted += 1
                    for award in result.awards { awarded += award.points }
                }
                sent += count
            }
            let seconds = (ContinuousClock.now - start).seconds
            latencies.sort()
            func percentile(_ p: Double) -> String { Bench.percentile(p, of: latencies) }
            let bytes = try await Bootstrap.checkpointedDatabaseBytes(dataDirectory: directory)
            print("""
                ingested \(events) events (\(accepted) accepted, \(awarded) points awarded) in \(latencies.count) batches of \(batch)
                throughput: \(Int(Double(events) / seconds)) events/s over \(String(format: "%.2f", seconds)) s on \(ProcessInfo.processInfo.activeProcessorCount) cores
                batch latency: p50 \(percentile(0.50)), p99 \(percentile(0.99))
                storage: \(bytes / Int64(events)) bytes per event (\(bytes) bytes, the database after a checkpoint, indexes included)
                """)
            let audit = try await ayumi.reporting.verifyLedger()
            guard audit.violations.isEmpty else { throw CLIFailure("ledger invariants broken after the bench: \(audit.violations)") }
            if keep { print("kept: \(directory)") }
        }

        static func event(_ kind: Event.Kind, number: Int, residentIDs: [String], firstDay: LocalDate, enrolment: Date,
                          using generator: inout SplitMix64) -> Event {
            let resident = residentIDs[Int(generator.next() % UInt64(residentIDs.count))]
            let day = Int(generator.next() % 28)
            let instant = enrolment.addingTimeInterval(Double(day * 86_400) + Double(generator.next() % 36_000))
            let id = "e-\(number)"
            switch kind {
            case .walk:
                return Event(id: id, residentID: resident,
                             detail: .walk(date: firstDay.adding(days: day), steps: Int64(generator.next() % 14_000), source: "phone"))
            case .transitTap:
                return Event(id: id, residentID: resident,
                             detail: .transitTap(at: instant, mode: "bus", route: "route-\(generator.next() % 12)", stop: "stop-\(generator.next() % 80)"))
            case .visit:
                return Event(id: id, residentID: resident, detail: .visit(at: instant, zone: "downtown"))
            }
        }
    }

    struct Redeem: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Redeem codes from many tills at once through the same use case as POST /v1/redemptions.",
            discussion: """
                Registers --merchants-count shops (a registry written for the run), enrols --residents residents and \
                gives each 28 days of walks, issues --redemptions codes (as residents' phones do before they reach a \
                till; each code writes its 12-digit number) and prints codes issued per second, then runs \
                --merchants-count tills at once, each redeeming 1 point with the next code until all are used. It \
                prints redemptions per second and the 50th and 99th percentile latency of one redemption, and checks \
                the ledger.
                """)

        @Option(help: "Residents to enrol.") var residents = 2_000
        @Option(name: .customLong("merchants-count"), help: "Shops redeeming at once.") var merchantsCount = 32
        @Option(help: "Redemptions in all.") var redemptions = 20_000
        @Option(name: .customLong("data-dir"), help: "Where to create the temporary database (default: the system's temporary directory).")
        var dataDirectory: String?
        @Option(name: .customLong("rules"), help: "Rules directory.") var rulesDirectory = "Rules"

        func validate() throws {
            guard residents > 0, (1...256).contains(merchantsCount), redemptions > 0 else {
                throw ValidationError("--residents and --redemptions above zero, --merchants-count from 1 to 256")
            }
            guard redemptions <= residents * 140 else { throw ValidationError("each resident holds 140 points: enrol more residents") }
        }

        func run() async throws {
            let parent = dataDirectory.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory
            let directory = parent.appendingPathComponent("ayumi-bench-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let registry = "merchants:\n" + (1...merchantsCount).map { index in
                "  - id: bench-m-\(index)\n    name: {ja: 店\(index), en: Shop \(index)}\n    category: bench\n    zone: downtown\n"
                    + "    settlementAccount: BENCH-\(index)\n"
            }.joined()
            try registry.write(toFile: directory + "/merchants.yaml", atomically: true, encoding: .utf8)
            let enrolment = Date(timeIntervalSince1970: 1_790_000_000)
            let clock = Mutex(enrolment)
            let environment = AyumiEnvironment(now: { clock.withLock { $0 } }, randomBytes: AyumiEnvironment.live.randomBytes)
            let ayumi = try await Bootstrap.open(dataDirectory: directory + "/data", rulesDirectory: rulesDirectory,
                                                 merchantsFile: directory + "/merchants.yaml", environment: environment,
                                                 logger: .init(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
            let residentIDs = (0..<residents).map { "bench-\($0)" }
            for id in residentIDs { _ = try await ayumi.residents.enrol(residentID: id, birthYear: 1960, district: "14101") }
            clock.withLock { $0 = enrolment.addingTimeInterval(28 * 86_400) }
            let firstDay = LocalDate(instant: enrolment, timeZone: ayumi.dependencies.program.current.evaluator.timeZone)
            let gateway = Principal(role: .ingest, subject: nil, feed: "step-gateway")
            for chunk in stride(from: 0, to: residents, by: 256) {
                let walks = residentIDs[chunk..<min(chunk + 256, residents)].flatMap { id in
                    (0..<28).map { Event(id: "w-\(id)-\($0)", residentID: id,
                                         detail: .walk(date: firstDay.adding(days: $0), steps: 12_000, source: "phone")) }
                }
                _ = try await ayumi.ingestion.ingest(walks, by: gateway)
            }
            print("enrolled \(residents) residents with 140 points each; \(merchantsCount) tills redeem at once")

            let tickets = Tickets()
            let (total, residents, merchantsCount) = (self.redemptions, self.residents, self.merchantsCount)
            // Codes are issued on residents' phones before they reach a till: issued first (each
            // writes its 12-digit number), timed apart, then redeemed.
            let issuing = ContinuousClock.now
            let codes = try await withThrowingTaskGroup(of: [(Int, String)].self) { group in
                for lane in 0..<merchantsCount {
                    group.addTask {
                        var mine: [(Int, String)] = []
                        for number in stride(from: lane, to: total, by: merchantsCount) {
                            mine.append((number, try await ayumi.redemptions.issueCode(residentID: residentIDs[number % residents]).code))
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: [String](repeating: "", count: total)) { codes, part in for (number, code) in part { codes[number] = code } }
            }
            let issueSeconds = (ContinuousClock.now - issuing).seconds
            print("issued \(total) codes in \(String(format: "%.2f", issueSeconds)) s: \(Int(Double(total) / issueSeconds)) codes/s (each with its 12-digit number)")
            let start = ContinuousClock.now
            let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
                for till in 1...merchantsCount {
                    group.addTask {
                        var mine: [Duration] = []
                        while true {
                            let number = tickets.next()
                            guard number < total else { return mine }
                            let code = codes[number]
                            let began = ContinuousClock.now
                            _ = try await ayumi.redemptions.redeem(merchantID: "bench-m-\(till)", code: code, points: 1,
                                                                   idempotencyKey: "k-\(number)")
                            mine.append(ContinuousClock.now - began)
                        }
                    }
                }
                return try await group.reduce(into: [Duration]()) { $0 += $1 }.sorted()
            }
            let seconds = (ContinuousClock.now - start).seconds
            func percentile(_ p: Double) -> String { Bench.percentile(p, of: latencies) }
            print("""
                redeemed \(latencies.count) times from \(merchantsCount) tills at once
                throughput: \(Int(Double(latencies.count) / seconds)) redemptions/s over \(String(format: "%.2f", seconds)) s on \(ProcessInfo.processInfo.activeProcessorCount) cores
                redemption latency: p50 \(percentile(0.50)), p99 \(percentile(0.99))
                """)
            let audit = try await ayumi.reporting.verifyLedger()
            guard audit.violations.isEmpty else { throw CLIFailure("ledger invariants broken after the bench: \(audit.violations)") }
        }
    }
}

extension Bench {
    /// The `p` quantile (nearest rank) of `sorted`, in milliseconds with one decimal.
    static func percentile(_ p: Double, of sorted: [Duration]) -> String {
        let value = sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
        return String(format: "%.1f ms", value.seconds * 1000)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Numbers handed out once each to concurrent tills.
final class Tickets: Sendable {
    private let value = Mutex(0)

    func next() -> Int {
        value.withLock { value in
            defer { value += 1 }
            return value
        }
    }
}
