@testable import AyumiServices
@testable import AyumiSQLite
import AyumiStore
import AyumiBootstrap
import AyumiCore
import AyumiLedger
import AyumiTestSupport
import Foundation
import Crypto
import GRDB
import Testing

/// `ledger verify` is only worth something if it notices a broken ledger: each test breaks one
/// invariant behind the store's back and expects the audit to name it.
@Suite("Ledger audit")
struct AuditTests {
    /// r-1 earns 4 points walking (transfer 1, a lot of the city's) and 1 riding (transfer 2), then
    /// spends 2 at shop-1 (redemption 1, transfer 3, drawn from lot 1 on 2026-11-25); r-2 is enrolled.
    func brokenLedger(_ sql: String) async throws -> [String] {
        let fixture = try await Fixture.make(store: .sqlite)
        try await fixture.enrol("r-1")
        try await fixture.enrol("r-2")
        _ = try await fixture.submit([fixture.walk("w-1", "r-1", steps: 8_000), fixture.tap("t-1", "r-1")])
        let code = try await fixture.ayumi.redemptions.issueCode(residentID: "r-1").code
        _ = try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: code, points: 2, idempotencyKey: "k-1")
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
        let store = try #require(fixture.ayumi.dependencies.store as? SQLiteStore)
        try await store.database.write { db in try db.execute(sql: sql) }
        return try await fixture.ayumi.reporting.verifyLedger().violations
    }

    @Test("a transfer's amount changed by hand no longer matches the balances")
    func amountChanged() async throws {
        let violations = try await brokenLedger("UPDATE transfers SET amount = amount + 1 WHERE id = 1")
        #expect(violations.contains("resident:r-1: balance 3 but its transfers sum to 4"))
        #expect(violations.contains("sponsor:health-office: balance -4 but its transfers sum to -5")
                || violations.contains("sponsor:health-office: balance -5 but its transfers sum to -6"))
    }

    @Test("a negative resident balance is reported")
    func negative() async throws {
        let violations = try await brokenLedger("UPDATE accounts SET balance = -1 WHERE kind = 2 AND external_id = 'r-1'")
        #expect(violations.contains("resident:r-1: negative balance -1"))
    }

    @Test("lots that no longer add up to the balance are reported")
    func lots() async throws {
        let violations = try await brokenLedger("UPDATE transfers SET remaining = 0 WHERE id = 1")
        #expect(violations == ["resident:r-1: balance 3 but open lots hold 1", "lot 1: 4 points less 2 drawn or expired is not the 0 it holds"])
    }

    @Test("points moved from one sponsor's lot to another's are reported, though balances and lot totals still agree")
    func pointsMovedBetweenLots() async throws {
        let violations = try await brokenLedger("""
            UPDATE transfers SET remaining = remaining + 1 WHERE id = 1;
            UPDATE transfers SET remaining = remaining - 1 WHERE id = 2;
            """)
        #expect(violations == ["lot 1: 4 points less 2 drawn or expired is not the 3 it holds", "lot 2: 1 points less 0 drawn or expired is not the 0 it holds"])
    }

    @Test("a redemption whose draws do not add up to its points is reported")
    func draws() async throws {
        let violations = try await brokenLedger("UPDATE redemptions SET points = 3 WHERE id = 1")
        #expect(violations == ["redemption 1: 3 points but its lot draws sum to 2"])
    }

    @Test("a lot drawn after its last day is reported")
    func drawnPastExpiry() async throws {
        let violations = try await brokenLedger("UPDATE transfers SET expires_day = day - 1 WHERE id = 1")
        #expect(violations == ["redemption 1 on 2026-11-25 drew lot 1, whose last day was 2026-11-24"])
    }

    @Test("a draw crediting another merchant than the redemption's, or drawing from no award, is reported", arguments: [
        "UPDATE transfers SET credit = (SELECT id FROM accounts WHERE kind = 3 AND external_id = 'shop-2') WHERE id = 3",
        "UPDATE transfers SET lot = 3 WHERE id = 3",
    ])
    func drawAstray(sql: String) async throws {
        let violations = try await brokenLedger(sql)
        #expect(violations.contains("redemption 1: transfer 3 does not move its points from its resident's lot to its merchant"), "\(violations)")
    }

    @Test("a draw from another resident's lot is reported")
    func othersLot() async throws {
        let violations = try await brokenLedger("""
            UPDATE transfers SET debit = (SELECT id FROM accounts WHERE kind = 2 AND external_id = 'r-2') WHERE id = 3
            """)
        #expect(violations.contains("redemption 1 by r-2 drew lot 1 of r-1"))
    }
}

@Suite("Concurrent ingest")
struct ConcurrentIngestTests {
    @Test("caps hold when batches for the same resident arrive at the same time")
    func capsUnderConcurrency() async throws {
        let fixture = try await Fixture.make(store: .sqlite)
        try await fixture.enrol("r-1")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for batch in 0..<8 {
                group.addTask {
                    let taps = (0..<3).map { fixture.tap("t-\(batch)-\($0)", "r-1", minutesAgo: Double(batch * 3 + $0)) }
                    _ = try await fixture.ayumi.ingestion.ingest(taps + [fixture.walk("w-\(batch)", "r-1", steps: Int64(2_000 * (batch + 1)))],
                                                       by: Fixture.transitFeed)
                }
            }
            try await group.waitForAll()
        }
        // 4 taps a day at most, and walking at most 5 a day whatever order the walks landed in.
        #expect(try await fixture.points("r-1") == 4 + 5)
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
    }
}

@Suite("Migration from the skeleton")
struct MigrationTests {
    /// A database as the skeleton left it: one resident, an ingest token, and one tap of 1 point.
    func skeletonDatabase() throws -> (directory: String, ingestToken: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ayumi-v1-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: directory + "/ayumi.sqlite")
        try SQLiteStore.migrator.migrate(queue, upTo: "v1-skeleton")
        let token = "ayumi_ingest_skeleton"
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO residents VALUES ('r-1', 1950, '14101', '2026-11-20', 0);
                INSERT INTO tokens VALUES (?, 'ingest', NULL, 0);
                INSERT INTO events VALUES ('tap-1', 'r-1', 'transit_tap', '2026-11-25', '{"at":0,"mode":"bus","route":"r10","stop":"s1"}', 0);
                INSERT INTO transfers(id, kind, resident_id, points, rule_id, ruleset_version, event_id, reason_ja, reason_en, local_date, created_at)
                  VALUES (1, 'award', 'r-1', 1, 'metro-ride', 'v1', 'tap-1', '乗車', 'Ride', '2026-11-25', 0);
                INSERT INTO postings VALUES (1, 'sponsor:health-office', -1), (1, 'resident:r-1', 1);
                INSERT INTO balances VALUES ('sponsor:health-office', -1), ('resident:r-1', 1);
                INSERT INTO lots(resident_id, sponsor_id, transfer_id, points_original, points_remaining, expires_on)
                  VALUES ('r-1', 'health-office', 1, 1, 1, '2027-11-24');
                """, arguments: [SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()])
        }
        try queue.close()
        return (directory, token)
    }

    @Test("an event sent before the upgrade is still a duplicate after it, whichever feed retries it")
    func legacyDuplicates() async throws {
        let (directory, token) = try skeletonDatabase()
        let clock = TestClock(Fixture.noon)
        let ayumi = try await Bootstrap.open(dataDirectory: directory, rulesDirectory: Fixture.rulesDirectory,
                                         merchantsFile: Fixture.merchantsFile,
                                         environment: AyumiEnvironment(now: { clock.now }, randomBytes: AyumiEnvironment.live.randomBytes),
                                         logger: .init(label: "test"))
        // The skeleton's ingest token still works, as the feed 'default'.
        #expect(try await ayumi.tokens.authenticate(token: token).map { Principal(role: $0.role, subject: $0.subject, feed: $0.feed) } == Principal(role: .ingest, subject: nil, feed: "default"))
        let tap = Event(id: "tap-1", residentID: "r-1", detail: .transitTap(at: clock.now.addingTimeInterval(-60), mode: "bus",
                                                                             route: "r10", stop: "s1"))
        #expect(try await ayumi.ingestion.ingest([tap], by: Fixture.transitFeed).map(\.status) == [.duplicate])
        #expect(try await ayumi.accounts.balance(residentID: "r-1").spendable == 1)
        #expect(try await ayumi.reporting.verifyLedger().violations.isEmpty)
        // The sentence the skeleton stored is what history shows, though its ruleset ('v1') was never installed.
        let (lines, _) = try await ayumi.accounts.history(residentID: "r-1", cursor: nil, limit: 10)
        #expect(lines.map(\.reason) == [LocalizedText(ja: "乗車", en: "Ride")])
    }
}

@Suite("The writer's guard on counters")
struct CounterGuardTests {
    /// Awards `points` for a walk under a cap of 5 a day, with the counters the caller claims to
    /// have read (not the stored ones): what a writer racing another would do.
    func award(_ points: Int64, store: SQLiteStore, fixture: Fixture) async throws -> [IngestResult] {
        let version = fixture.ayumi.dependencies.program.current.ruleset.version
        let day = fixture.today
        let walk = fixture.walk("w-\(points)-\(UUID().uuidString.prefix(8))", "r-1", steps: 10_000)
        return try await store.ingest([walk], from: .feed("test"), at: fixture.clock.now, counterKeys: { _ in [] }, decide: { _, _, _ in
            let award = Award(ruleID: "walk-bands", rulesetVersion: version, points: points,
                              funding: [SponsorShare(sponsorID: "health-office", points: points)], reason: LocalizedText(ja: "", en: ""))
            let delta = CounterDelta(key: CounterKey(subject: .resident("r-1"), name: "walk-bands", period: day.dayNumber), points: points,
                                     count: 1, pointsMax: 5)
            return IngestDecision(evaluation: Evaluation(outcome: .accepted(awards: [award], note: nil), deltas: [delta]), localDate: day,
                                  expiresOn: day.adding(days: 365))
        })
    }

    @Test("an award that would take a counter past its cap is refused in the statement, and the batch changes nothing")
    func guardHolds() async throws {
        let fixture = try await Fixture.make(store: .sqlite)
        try await fixture.enrol("r-1")
        let store = try #require(fixture.ayumi.dependencies.store as? SQLiteStore)
        // No counter yet: the insert itself must fit.
        await #expect(throws: StoreError.counterLimitExceeded) { try await award(6, store: store, fixture: fixture) }
        #expect(try await award(4, store: store, fixture: fixture).map(\.status) == [.accepted])
        // The counter holds 4: 2 more would pass the cap of 5, though the caller read none.
        await #expect(throws: StoreError.counterLimitExceeded) { try await award(2, store: store, fixture: fixture) }
        #expect(try await fixture.points("r-1") == 4)
        #expect(try await award(1, store: store, fixture: fixture).map(\.status) == [.accepted])
        #expect(try await fixture.points("r-1") == 5)
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
    }
}

@Suite("Migration of a database the skeleton wrote")
struct SkeletonFixtureTests {
    /// Written by the walking skeleton (commit 6acb8bc) through its HTTP API on 2026-11-26 (Tokyo):
    /// r-1 walked 8,000 then 10,000 steps (4 + 1 points), rode once (1) and visited downtown (2),
    /// then spent 6 at m-001 (5 of the city's points, 1 of the shopping street's); r-2 walked
    /// 12,000 steps (5) and rode once (1, the operator's); r-3 did nothing.
    static let fixture = Fixture.repositoryRoot + "/Tests/AyumiSQLiteTests/Fixtures/skeleton-v1.sqlite"
    /// The program the skeleton's database was written under (the demo city's `Rules/` and
    /// `Merchants/` as they stood when this test was written), frozen here: its ids are what the
    /// database records, and the day's walk counter only carries over under the same rule id. The
    /// city's `Rules/` may change; this copy never does.
    static let program = Fixture.repositoryRoot + "/Tests/AyumiSQLiteTests/Fixtures/skeleton-v1-program"
    /// The feed that program takes transit taps from.
    static let transitFeed = Principal(role: .ingest, subject: nil, feed: "transit-operator")
    /// The skeleton printed this ingest token on its first start.
    static let skeletonIngestToken = "ayumi_ingest_r0BW5kyyWLqgHB-dajOj4SOQRw82BmXbKCqib0lCPOI"
    /// 2026-11-26 12:00 in Tokyo.
    static let noonAfter = Date(timeIntervalSince1970: 1_795_662_000)

    func migrated() async throws -> Ayumi {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ayumi-fixture-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.fixture, toPath: directory + "/ayumi.sqlite")
        let clock = TestClock(Self.noonAfter)
        return try await Bootstrap.open(dataDirectory: directory, rulesDirectory: Self.program + "/Rules",
                                        merchantsFile: Self.program + "/Merchants/merchants.yaml",
                                        environment: AyumiEnvironment(now: { clock.now }, randomBytes: AyumiEnvironment.live.randomBytes),
                                        logger: .init(label: "test"))
    }

    @Test("balances, lots and every invariant carry over")
    func ledger() async throws {
        let ayumi = try await migrated()
        #expect(try await ayumi.accounts.balance(residentID: "r-1") == Balance(spendable: 2, pastExpiry: 0))
        #expect(try await ayumi.accounts.balance(residentID: "r-2") == Balance(spendable: 6, pastExpiry: 0))
        #expect(try await ayumi.accounts.balance(residentID: "r-3") == Balance(spendable: 0, pastExpiry: 0))
        let audit = try await ayumi.reporting.verifyLedger()
        #expect(audit.violations.isEmpty, "\(audit.violations)")
        #expect(audit.transferCount == 9, "6 awards of one sponsor each, and a redemption drawing 3 lots")
    }

    @Test("the skeleton's ruleset is in force from the beginning, today's from its start; a walk of its days is judged by it")
    func timeline() async throws {
        let ayumi = try await migrated()
        let activations = try await ayumi.dependencies.store.activations()
        #expect(activations.count == 2)
        #expect(activations.first?.effectiveFrom == Date(timeIntervalSince1970: 0))
        #expect(activations.first?.activatedBy == "start")
        #expect(activations.last?.ruleset.version == ayumi.dependencies.program.current.ruleset.version)
        #expect(activations.last?.effectiveFrom == Self.noonAfter)
        // The skeleton's ruleset is of a shape this Ayumi cannot read: its time is judged by the first it can.
        #expect(ayumi.dependencies.program.current.timeline.count == 1)
        // Activating it again is refused: it would leave no readable program in force.
        let skeleton = try #require(activations.first?.ruleset.version)
        await #expect(throws: AyumiError.self) {
            try await ayumi.program.activate(version: skeleton, effectiveFrom: Self.noonAfter, by: Principal(role: .admin, subject: nil))
        }
        #expect(try await ayumi.dependencies.store.activations().count == 2)
    }

    @Test("every event's details carry over into the typed columns, and a row missing its kind's columns is refused")
    func eventColumns() async throws {
        let ayumi = try await migrated()
        let store = try #require(ayumi.dependencies.store as? SQLiteStore)
        let rows = try await store.database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT external_id, kind, at, steps, device, mode, route, stop, zone FROM events ORDER BY external_id
                """).map { row -> String in
                let columns: [DatabaseValue] = [row["at"], row["steps"], row["device"], row["mode"], row["route"], row["stop"], row["zone"]]
                return "\(row["external_id"] as String) \(row["kind"] as Int64) " + columns.map { value in
                    switch value.storage {
                    case .int64(let number): String(number)
                    case .string(let text): text
                    default: "-"
                    }
                }.joined(separator: " ")
            }
        }
        #expect(rows == [
            "t-1 2 1795640597000 - - bus r10 s1 -", "t-2 2 1795640597000 - - tram r2 s9 -",
            "v-1 3 1795640597000 - - - - - downtown",
            "w-1 1 - 8000 phone - - - -", "w-1b 1 - 10000 watch - - - -", "w-2 1 - 12000 watch - - - -",
        ])
        // The rebuilt table keeps its indexes: ids unique per source, and the reports' (kind, day).
        let indexes = try await store.database.read { db in try db.indexes(on: "events").map(\.columns) }
        #expect(indexes.contains(["source", "external_id"]) && indexes.contains(["kind", "day"]), "\(indexes)")
        for broken in ["UPDATE events SET steps = NULL WHERE external_id = 'w-1'", "UPDATE events SET zone = 'downtown' WHERE external_id = 't-1'",
                       "UPDATE events SET at = 0 WHERE external_id = 'w-2'", "UPDATE events SET stop = NULL WHERE external_id = 't-2'"] {
            await #expect(throws: DatabaseError.self, "\(broken)") { try await store.database.write { db in try db.execute(sql: broken) } }
        }
    }

    @Test("an event whose details do not split into its kind's columns stops the upgrade, named, and leaves the database as it was", arguments: [
        (Int64(1), "8000"), (1, "x|phone"), (1, "8000|"), (2, "bus|r10"), (2, "bus||s1"), (3, "a|b"),
    ])
    func malformedEventDetails(kind: Int64, detail: String) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ayumi-v16-\(UUID().uuidString).sqlite").path
        let queue = try DatabaseQueue(path: path)
        try SQLiteStore.migrator.migrate(queue, upTo: "v16-report-days")
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO accounts(id, kind, external_id) VALUES (7, 2, 'r-1')")
            try db.execute(sql: """
                INSERT INTO events(source, external_id, resident, kind, day, at, detail, received_at)
                VALUES (-7, 'good', 7, 1, 20000, NULL, '8000|phone', 0), (-7, 'bad', 7, ?, 20000, CASE ? WHEN 1 THEN NULL ELSE 0 END, ?, 0)
                """, arguments: [kind, kind, detail])
        }
        try queue.close()
        #expect {
            _ = try SQLiteStore(path: path, mode: .createOrMigrate)
        } throws: { error in
            "\(error)".contains("migration v17-event-columns: events whose details do not split into their columns (bad)")
        }
        let still = try DatabaseQueue(path: path)
        #expect(try await still.read { db in try Self.migrator.hasCompletedMigrations(db) } == false)
        #expect(try await still.read { db in try String.fetchOne(db, sql: "SELECT detail FROM events WHERE external_id = 'bad'") } == detail)
    }

    static var migrator: DatabaseMigrator { SQLiteStore.migrator }

    @Test("history reads as the skeleton wrote it, in the sentences it stored")
    func history() async throws {
        let ayumi = try await migrated()
        let (lines, next) = try await ayumi.accounts.history(residentID: "r-1", cursor: nil, limit: 10)
        #expect(next == nil)
        #expect(lines.map(\.points) == [-6, 1, 2, 1, 4])
        #expect(lines.map(\.reason.en) == [
            "Redeemed at Minato Bakery", "10000 steps on 2026-11-26 (1 point per 2,000 steps, up to 5 a day)",
            "Visit to Downtown on 2026-11-26", "Ride on r10 at s1 on 2026-11-26", "8000 steps on 2026-11-26 (1 point per 2,000 steps, up to 5 a day)",
        ])
        #expect(lines[1].rulesetVersion == "173a98e3095d")
        #expect(lines[2].reason.ja == "2026-11-26に中心市街地を訪問")
    }

    @Test("the skeleton's events stay duplicates, its ingest token works as the feed 'default', its redemption replays")
    func idempotency() async throws {
        let ayumi = try await migrated()
        #expect(try await ayumi.tokens.authenticate(token: Self.skeletonIngestToken).map { Principal(role: $0.role, subject: $0.subject, feed: $0.feed) } == Principal(role: .ingest, subject: nil, feed: "default"))
        let tap = Event(id: "t-1", residentID: "r-1", detail: .transitTap(at: Self.noonAfter.addingTimeInterval(-3_600), mode: "bus",
                                                                           route: "r10", stop: "s1"))
        #expect(try await ayumi.ingestion.ingest([tap], by: Self.transitFeed).map(\.status) == [.duplicate])
        let walk = Event(id: "w-1", residentID: "r-1", detail: .walk(date: LocalDate("2026-11-26")!, steps: 20_000, source: "phone"))
        #expect(try await ayumi.ingestion.ingest([walk], by: Principal(role: .resident, subject: "r-1")).map(\.status) == [.duplicate])
        // A new walk report for the same day is accepted, but the day's counter came over: the 5
        // points of the day were awarded already, none is due.
        let later = Event(id: "w-1c", residentID: "r-1", detail: .walk(date: LocalDate("2026-11-26")!, steps: 20_000, source: "phone"))
        let result = try #require(try await ayumi.ingestion.ingest([later], by: Principal(role: .resident, subject: "r-1")).first)
        #expect(result.status == .accepted)
        #expect(result.awards.isEmpty)
        #expect(result.reason?.en == "No points: Walking has reached its limit of 5 points a day")
        // With events from before per-source ids present, the store reads before it writes: a new
        // id sent twice in one batch still awards once.
        let taps = (0..<2).map { _ in Event(id: "t-new", residentID: "r-2", detail: .transitTap(at: Self.noonAfter.addingTimeInterval(-600),
                                                                                              mode: "bus", route: "r10", stop: "s1")) }
        let twice = try await ayumi.ingestion.ingest(taps, by: Self.transitFeed)
        #expect(twice.map(\.status) == [.accepted, .duplicate])
        #expect(twice.map { $0.awards.reduce(0) { $0 + $1.points } } == [1, 0])
        #expect(try await ayumi.accounts.balance(residentID: "r-2") == Balance(spendable: 7, pastExpiry: 0))
        let store = ayumi.dependencies.store
        let redemption = try #require(try await store.redemption(merchantID: "m-001", idempotencyKey: "till-1"))
        #expect(redemption.points == 6)
        #expect(redemption.funding == [SponsorShare(sponsorID: "city-health", points: 5), SponsorShare(sponsorID: "shotengai", points: 1)])
    }

    @Test("the report counts what the skeleton recorded")
    func report() async throws {
        let ayumi = try await migrated()
        let facts = try await ayumi.dependencies.reports.beneficiaryFacts(from: LocalDate("2026-11-26")!, to: LocalDate("2026-11-26")!)
        #expect(facts.totals[.awarded] == .init(points: 14, residents: 2))
        #expect(facts.totals[.redeemed] == .init(points: 6, residents: 1))
        #expect(facts.cells[.redeemed]?[.sponsor] == ["city-health": .init(points: 5, residents: 1), "shotengai": .init(points: 1, residents: 1)])
        #expect(facts.cells[.awarded]?[.rule]?["walk-steps"] == .init(points: 10, residents: 2))
    }
}

@Suite("Read-only maintenance opens")
struct ReadOnlyTests {
    @Test("a read-only open reads the ledger and cannot write, leaving the database file as it was")
    func readOnly() async throws {
        let fixture = try await Fixture.make(store: .sqlite)
        try await fixture.enrol("r-1")
        _ = try await fixture.submit([fixture.walk("w-1", "r-1", steps: 8_000)])
        let path = fixture.directory + "/ayumi.sqlite"
        let store = try #require(fixture.ayumi.dependencies.store as? SQLiteStore)
        try await store.database.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let reader = try await Bootstrap.openExisting(dataDirectory: fixture.directory, readOnly: true, logger: .init(label: "test"))
        #expect(try await reader.accounts.balance(residentID: "r-1").spendable == 4)
        #expect(try await reader.reporting.verifyLedger().violations.isEmpty)
        await #expect(throws: DatabaseError.self) { try await reader.tokens.create(role: .admin, subject: nil) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }
}
