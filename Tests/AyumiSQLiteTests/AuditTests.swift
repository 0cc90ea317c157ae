@testable import AyumiServices
@testable import AyumiSQLite
import AyumiStore
import AyumiBootstrap
import AyumiCore
import AyumiTestSupport
import Foundation
import Crypto
import GRDB
import Testing

/// `ledger verify` is only worth something if it notices a broken ledger: each test breaks one
/// invariant behind the store's back and expects the audit to name it.
@Suite("Ledger audit")
struct AuditTests {
    /// r-1 earns 4 points walking (transfer 1, lot 1) and 1 riding (transfer 2, lot 2), then spends
    /// 2 at m-001 (redemption 1, drawn from lot 1, on 2026-11-25).
    func brokenLedger(_ sql: String) async throws -> [String] {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        _ = try await fixture.submit([fixture.walk("w-1", "r-1", steps: 8_000), fixture.tap("t-1", "r-1")])
        let code = try fixture.ayumi.redemptions.issueCode(residentID: "r-1").code
        _ = try await fixture.ayumi.redemptions.redeem(merchantID: "m-001", code: code, points: 2, idempotencyKey: "k-1")
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
        let store = try #require(fixture.ayumi.dependencies.store as? SQLiteStore)
        try await store.database.write { db in try db.execute(sql: sql) }
        return try await fixture.ayumi.reporting.verifyLedger().violations
    }

    @Test("a posting changed by hand unbalances its transfer and its account")
    func unbalanced() async throws {
        let violations = try await brokenLedger("UPDATE postings SET points = points + 1 WHERE rowid = 1")
        #expect(violations.contains { $0.hasPrefix("transfer 1 sums to 1") })
        #expect(violations.contains { $0.contains("but postings sum to") })
    }

    @Test("a negative resident balance is reported")
    func negative() async throws {
        let violations = try await brokenLedger("UPDATE balances SET points = -1 WHERE account = 'resident:r-1'")
        #expect(violations.contains("resident:r-1: negative balance -1"))
    }

    @Test("lots that no longer add up to the balance are reported")
    func lots() async throws {
        let violations = try await brokenLedger("UPDATE lots SET points_remaining = 0 WHERE rowid = 1")
        #expect(violations == ["resident:r-1: balance 3 but open lots hold 1", "lot 1: 4 points less 2 drawn is not the 0 it holds"])
    }

    @Test("points moved from one sponsor's lot to another's are reported, though balances and lot totals still agree")
    func pointsMovedBetweenLots() async throws {
        let violations = try await brokenLedger("""
            UPDATE lots SET points_remaining = points_remaining + 1 WHERE id = 1;
            UPDATE lots SET points_remaining = points_remaining - 1 WHERE id = 2;
            """)
        #expect(violations == ["lot 1: 4 points less 2 drawn is not the 3 it holds", "lot 2: 1 points less 0 drawn is not the 0 it holds"])
    }

    @Test("a draw billed to another sponsor than its lot's is reported")
    func drawSponsor() async throws {
        let violations = try await brokenLedger("UPDATE redemption_draws SET sponsor_id = 'shotengai' WHERE redemption_id = 1")
        #expect(violations == ["redemption 1 drew lot 1 of city-health but names shotengai as its sponsor"])
    }

    @Test("an award whose lots do not hold its points is reported")
    func awardLots() async throws {
        let violations = try await brokenLedger("UPDATE lots SET points_original = points_original + 1 WHERE id = 1")
        #expect(violations == ["award transfer 1: 4 points but its lots hold 5", "lot 1: 5 points less 2 drawn is not the 2 it holds"])
    }

    @Test("a redemption whose draws do not add up to its points is reported")
    func draws() async throws {
        let violations = try await brokenLedger("UPDATE redemption_draws SET points = 1 WHERE redemption_id = 1")
        #expect(violations == ["redemption 1: 2 points but its lot draws sum to 1", "lot 1: 4 points less 1 drawn is not the 2 it holds"])
    }

    @Test("a lot drawn after its last day is reported")
    func drawnPastExpiry() async throws {
        let violations = try await brokenLedger("UPDATE lots SET expires_on = '2026-11-24' WHERE id = 1")
        #expect(violations == ["redemption 1 on 2026-11-25 drew lot 1, whose last day was 2026-11-24"])
    }
}

@Suite("Concurrent ingest")
struct ConcurrentIngestTests {
    @Test("caps hold when batches for the same resident arrive at the same time")
    func capsUnderConcurrency() async throws {
        let fixture = try await Fixture.make()
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
                  VALUES (1, 'award', 'r-1', 1, 'transit-ride', 'v1', 'tap-1', '乗車', 'Ride', '2026-11-25', 0);
                INSERT INTO postings VALUES (1, 'sponsor:city-health', -1), (1, 'resident:r-1', 1);
                INSERT INTO balances VALUES ('sponsor:city-health', -1), ('resident:r-1', 1);
                INSERT INTO lots(resident_id, sponsor_id, transfer_id, points_original, points_remaining, expires_on)
                  VALUES ('r-1', 'city-health', 1, 1, 1, '2027-11-24');
                """, arguments: [SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()])
        }
        try queue.close()
        return (directory, token)
    }

    @Test("an event sent before the upgrade is still a duplicate after it, whichever feed retries it")
    func legacyDuplicates() async throws {
        let (directory, token) = try skeletonDatabase()
        let clock = TestClock(Fixture.noon)
        let ayumi = try await Bootstrap.open(dataDirectory: directory, rulesDirectory: Fixture.repositoryRoot + "/Rules",
                                         merchantsFile: Fixture.repositoryRoot + "/Merchants/merchants.yaml",
                                         environment: AyumiEnvironment(now: { clock.now }, randomBytes: AyumiEnvironment.live.randomBytes),
                                         logger: .init(label: "test"))
        // The skeleton's ingest token still works, as the feed 'default'.
        #expect(try await ayumi.administration.authenticate(token: token) == Principal(role: .ingest, subject: nil, feed: "default"))
        let tap = Event(id: "tap-1", residentID: "r-1", detail: .transitTap(at: clock.now.addingTimeInterval(-60), mode: "bus",
                                                                             route: "r10", stop: "s1"))
        #expect(try await ayumi.ingestion.ingest([tap], by: Fixture.transitFeed).map(\.status) == [.duplicate])
        #expect(try await ayumi.accounts.balance(residentID: "r-1").spendable == 1)
        #expect(try await ayumi.reporting.verifyLedger().violations.isEmpty)
    }
}
