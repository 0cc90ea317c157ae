@testable import AyumiServices
@testable import AyumiStore
import AyumiCore
import AyumiTestSupport
import Foundation
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
        _ = try await fixture.ayumi.ingest([fixture.walk("w-1", "r-1", steps: 8_000), fixture.tap("t-1", "r-1")], by: Fixture.ingest)
        let code = try fixture.ayumi.issueCode(residentID: "r-1").code
        _ = try await fixture.ayumi.redeem(merchantID: "m-001", code: code, points: 2, idempotencyKey: "k-1")
        #expect(try await fixture.ayumi.verifyLedger().violations.isEmpty)
        let store = try #require(fixture.ayumi.store as? SQLiteStore)
        try await store.pool.write { db in try db.execute(sql: sql) }
        return try await fixture.ayumi.verifyLedger().violations
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
        #expect(violations == ["resident:r-1: balance 3 but open lots hold 1"])
    }

    @Test("an award whose lots do not hold its points is reported")
    func awardLots() async throws {
        let violations = try await brokenLedger("UPDATE lots SET points_original = points_original + 1 WHERE id = 1")
        #expect(violations == ["award transfer 1: 4 points but its lots hold 5"])
    }

    @Test("a redemption whose draws do not add up to its points is reported")
    func draws() async throws {
        let violations = try await brokenLedger("UPDATE redemption_draws SET points = 1 WHERE redemption_id = 1")
        #expect(violations == ["redemption 1: 2 points but its lot draws sum to 1"])
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
                    _ = try await fixture.ayumi.ingest(taps + [fixture.walk("w-\(batch)", "r-1", steps: Int64(2_000 * (batch + 1)))],
                                                       by: Fixture.ingest)
                }
            }
            try await group.waitForAll()
        }
        // 4 taps a day at most, and walking at most 5 a day whatever order the walks landed in.
        #expect(try await fixture.points("r-1") == 4 + 5)
        #expect(try await fixture.ayumi.verifyLedger().violations.isEmpty)
    }
}
