import AyumiBootstrap
import AyumiCore
import AyumiRules
import AyumiServices
import AyumiStore
import Foundation
import Logging
import Synchronization

/// A settable clock for tests: time moves only when a test moves it.
public final class TestClock: Sendable {
    private let instant: Mutex<Date>

    public init(_ start: Date) { instant = Mutex(start) }

    public var now: Date { instant.withLock { $0 } }

    public func advance(seconds: TimeInterval) { instant.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// An Ayumi over a fresh temporary database of the store under test, the tests' own program
/// (`Tests/Fixtures/Rules` and `Tests/Fixtures/Merchants`), a test clock and a seeded random source,
/// so every run is the same, whatever a city writes in its `Rules/`.
public struct Fixture: Sendable {
    public let ayumi: Ayumi
    public let clock: TestClock
    public let directory: String
    /// The kind of store `directory` holds: a test that restarts over it opens the same kind.
    public let store: StoreKind

    /// 2026-11-25 12:00 in Tokyo.
    public static let noon = Date(timeIntervalSince1970: 1_795_575_600)

    public static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// The tests' own program: `Rules/` and `Merchants/merchants.yaml` side by side, as in the
    /// repository, so a command run from here finds them where it looks by default.
    public static var programRoot: String { repositoryRoot + "/Tests/Fixtures" }
    public static var rulesDirectory: String { programRoot + "/Rules" }
    public static var merchantsFile: String { programRoot + "/Merchants/merchants.yaml" }

    /// - Parameter logger: what the use cases log to (a test that checks the logs passes a recorder).
    public static func make(start: Date = noon, store: StoreKind = .underTest, rulesDirectory: String? = nil, merchantsFile: String? = nil,
                            logger: Logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })) async throws -> Fixture {
        let clock = TestClock(start)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ayumi-test-\(UUID().uuidString)").path
        let random = Mutex(SplitMix64(seed: 1))
        let environment = AyumiEnvironment(now: { clock.now }, randomBytes: { count in
            random.withLock { generator in (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next() >> 56) } }
        })
        let ayumi = try await store.open(
            dataDirectory: directory, rulesDirectory: rulesDirectory ?? Self.rulesDirectory,
            merchantsFile: merchantsFile ?? Self.merchantsFile, environment: environment, logger: logger)
        return Fixture(ayumi: ayumi, clock: clock, directory: directory, store: store)
    }

    /// Enrols a resident and returns their token.
    @discardableResult
    public func enrol(_ id: String, birthYear: Int = 1950, district: String = "14101") async throws -> String {
        try await ayumi.residents.enrol(residentID: id, birthYear: birthYear, district: district).token
    }

    public var today: LocalDate { ayumi.dependencies.today }

    /// The points `resident` can spend today.
    public func points(_ resident: String) async throws -> Int64 {
        try await ayumi.accounts.balance(residentID: resident).spendable
    }

    public func walk(_ id: String, _ resident: String, steps: Int64, on date: LocalDate? = nil) -> Event {
        Event(id: id, residentID: resident, detail: .walk(date: date ?? today, steps: steps, source: "phone"))
    }

    public func tap(_ id: String, _ resident: String, minutesAgo: Double = 10, mode: String = "bus") -> Event {
        Event(id: id, residentID: resident, detail: .transitTap(at: clock.now.addingTimeInterval(-minutesAgo * 60),
                                                                mode: mode, route: "route-10", stop: "stop-3"))
    }

    public func visit(_ id: String, _ resident: String, zone: String = "centre") -> Event {
        Event(id: id, residentID: resident, detail: .visit(at: clock.now.addingTimeInterval(-60), zone: zone))
    }

    /// An ingest feed's principal, as a token created with `--source test-feed` authenticates: in the
    /// tests' program it may report walks only.
    public static let ingest = Principal(role: .ingest, subject: nil, feed: "test-feed")
    /// The feeds the tests' program takes transit taps and centre visits from (both may report walks).
    public static let transitFeed = Principal(role: .ingest, subject: nil, feed: "metro-feed")
    public static let checkinFeed = Principal(role: .ingest, subject: nil, feed: "checkin-feed")

    /// Submits events as the program's feeds would: taps from the metro feed, visits from the
    /// shops' check-in feed, walks with whichever of them sends the batch. A batch holding both taps
    /// and visits goes as two batches; the results come back in the order of `events`.
    public func submit(_ events: [Event]) async throws -> [IngestResult] {
        let hasTaps = events.contains { $0.kind == .transitTap }, hasVisits = events.contains { $0.kind == .visit }
        guard hasTaps && hasVisits else { return try await ayumi.ingestion.ingest(events, by: hasVisits ? Self.checkinFeed : Self.transitFeed) }
        let visitIndices = events.indices.filter { events[$0].kind == .visit }
        let otherIndices = events.indices.filter { events[$0].kind != .visit }
        let visits = try await ayumi.ingestion.ingest(visitIndices.map { events[$0] }, by: Self.checkinFeed)
        let others = try await ayumi.ingestion.ingest(otherIndices.map { events[$0] }, by: Self.transitFeed)
        var results = [IngestResult?](repeating: nil, count: events.count)
        for (index, result) in zip(visitIndices, visits) { results[index] = result }
        for (index, result) in zip(otherIndices, others) { results[index] = result }
        return results.map { $0! }
    }

    /// A copy of the tests' `Rules/` in a temporary directory, with `edits` applied (file
    /// name → new text from old; a file `Rules/` lacks starts empty).
    public static func rules(editing edits: [String: (String) -> String] = [:]) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ayumi-rules-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: rulesDirectory, toPath: directory)
        for (name, edit) in edits {
            let path = directory + "/" + name
            let text = FileManager.default.fileExists(atPath: path) ? try String(contentsOfFile: path, encoding: .utf8) : ""
            try edit(text).write(toFile: path, atomically: true, encoding: .utf8)
        }
        return directory
    }

    /// Puts the rules in `directory` in force as a reload (SIGHUP) does, with the merchants in force.
    public func install(rules directory: String) async throws {
        try await ayumi.program.install(ruleset: try RulesParser.load(directory: directory),
                                               merchants: Array(ayumi.dependencies.program.current.merchants.values))
    }
}
