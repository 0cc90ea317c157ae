@testable import AyumiServices
import AyumiBootstrap
import AyumiCore
import AyumiLedger
import AyumiRedemption
import AyumiReports
import AyumiRules
import AyumiStore
import AyumiTestSupport
import Foundation
import Testing

/// The use cases over the store under test (`StoreKind.underTest`): what the HTTP API and the CLI both rely on.
@Suite("Ingest")
struct IngestTests {
    @Test("the same event id twice awards once, within a batch and across batches")
    func duplicates() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        let walk = fixture.walk("w-1", "r-1", steps: 8_000)
        let first = try await fixture.submit([walk, walk])
        #expect(first.map(\.status) == [.accepted, .duplicate])
        let again = try await fixture.submit([walk])
        #expect(again.map(\.status) == [.duplicate])
        #expect(again.first?.awards.isEmpty == true)
        // The id stays taken when a resend names someone else, enrolled or not.
        try await fixture.enrol("r-2")
        #expect(try await fixture.submit([fixture.walk("w-1", "r-404", steps: 8_000), fixture.walk("w-1", "r-2", steps: 8_000)])
            .map(\.status) == [.duplicate, .duplicate])
        #expect(try await fixture.points("r-1") == 4)
        #expect(try await fixture.points("r-2") == 0)
    }

    @Test("a later walk for the same day with more steps awards only the difference")
    func walkDifference() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        _ = try await fixture.submit([fixture.walk("w-1", "r-1", steps: 4_100)])
        let second = try await fixture.submit([fixture.walk("w-2", "r-1", steps: 9_000)])
        #expect(second.first?.awards.map(\.points) == [2])
        let lower = try await fixture.submit([fixture.walk("w-3", "r-1", steps: 6_000)])
        #expect(lower.first?.status == .accepted)
        #expect(lower.first?.awards.isEmpty == true)
        let more = try await fixture.submit([fixture.walk("w-4", "r-1", steps: 40_000)])
        #expect(more.first?.awards.map(\.points) == [1])
        #expect(try await fixture.points("r-1") == 5)
    }

    @Test("a walk reduced by the daily limit is stored as capped, and history says so in both languages")
    func cappedInHistory() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        _ = try await fixture.submit([fixture.walk("w-1", "r-1", steps: 8_000)])
        let second = try await fixture.submit([fixture.walk("w-2", "r-1", steps: 14_000)])
        #expect(second.first?.awards.map(\.points) == [1])
        let (lines, _) = try await fixture.ayumi.accounts.history(residentID: "r-1", cursor: nil, limit: 10)
        #expect(lines.map(\.reason.en) == [
            "14000 steps on \(fixture.today) (1 point per 2,000 steps, up to 5 a day) (capped at 5 points a day)",
            "8000 steps on \(fixture.today) (1 point per 2,000 steps, up to 5 a day)",
        ])
        #expect(lines.first?.reason.ja.hasSuffix("（上限 1日5ポイント により減額）") == true)
    }

    @Test("one-point taps funded 50/50 bill city and operator alternately, across batches: 5 and 5 of 10")
    func carriedSplitAcrossBatches() async throws {
        let fixture = try await Fixture.make()
        var billed: [String: Int64] = [:]
        for index in 0..<10 {
            try await fixture.enrol("r-\(index)")
            for award in try await fixture.submit([fixture.tap("t-\(index)", "r-\(index)")]).flatMap(\.awards) {
                for share in award.funding { billed[share.sponsorID, default: 0] += share.points }
            }
        }
        #expect(billed == ["health-office": 5, "metro-company": 5])
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
    }

    @Test("the daily transit cap holds inside one batch")
    func capInBatch() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        let taps = (0..<6).map { fixture.tap("t-\($0)", "r-1", minutesAgo: Double(60 - $0)) }
        let results = try await fixture.submit(taps)
        #expect(results.map { $0.awards.reduce(0) { $0 + $1.points } } == [1, 1, 1, 1, 0, 0])
        #expect(results[5].reason?.en == "No points: Public transport ride has reached its limit of 4 awards a day")
        #expect(try await fixture.points("r-1") == 4)
    }

    @Test("a rejected event changes nothing and its id can be sent again once corrected")
    func rejectedChangesNothing() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        let rejected = try await fixture.submit([fixture.walk("w-1", "r-1", steps: 2_000_000)])
        #expect(rejected.first?.status == .rejected)
        #expect(try await fixture.points("r-1") == 0)
        let unknown = try await fixture.submit([fixture.walk("w-2", "r-404", steps: 5_000)])
        #expect(unknown.first?.status == .rejected)
        #expect(unknown.first?.reason?.en == "Unknown resident")
        let corrected = try await fixture.submit([fixture.walk("w-1", "r-1", steps: 20_000)])
        #expect(corrected.first?.awards.map(\.points) == [5])
        // Within one batch too: rejected (stamped an hour ahead), then corrected and awarded, then a
        // duplicate that awards nothing more.
        let sameBatch = try await fixture.submit([fixture.tap("t-1", "r-1", minutesAgo: -60), fixture.tap("t-1", "r-1"),
                                                  fixture.tap("t-1", "r-1", minutesAgo: 5)])
        #expect(sameBatch.map(\.status) == [.rejected, .accepted, .duplicate])
        #expect(sameBatch.map { $0.awards.reduce(0) { $0 + $1.points } } == [0, 1, 0])
        #expect(try await fixture.points("r-1") == 5 + 1)
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
    }

    @Test("a batch of more than 8,192 events is refused whole")
    func tooMany() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        let events = (0...8_192).map { fixture.visit("v-\($0)", "r-1") }
        await #expect(throws: AyumiError.tooManyEvents(count: 8_193, max: 8_192)) {
            try await fixture.submit(events)
        }
        #expect(try await fixture.points("r-1") == 0)
    }

    @Test("a resident's token submits only that resident's events")
    func ownEventsOnly() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        try await fixture.enrol("r-2")
        await #expect(throws: AyumiError.forbidden("A resident token can submit only its own events; event 'w-2' is for another resident.")) {
            try await fixture.ayumi.ingestion.ingest([fixture.walk("w-1", "r-1", steps: 5_000), fixture.walk("w-2", "r-2", steps: 5_000)],
                                           by: Principal(role: .resident, subject: "r-1"))
        }
        #expect(try await fixture.points("r-1") == 0)
    }

    @Test("event ids are unique per source: two sources may send the same id, one source sending it twice is a duplicate")
    func idsPerSource() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        let buggyFeed = Principal(role: .ingest, subject: nil, feed: "step-gateway")
        // A feed (or the resident's app) claiming an id first does not take it from the operator.
        #expect(try await fixture.ayumi.ingestion.ingest([fixture.walk("shared-id", "r-1", steps: 2_000)], by: buggyFeed).map(\.status) == [.accepted])
        let walk = fixture.walk("shared-id", "r-1", steps: 4_000)
        #expect(try await fixture.ayumi.ingestion.ingest([walk], by: Principal(role: .resident, subject: "r-1")).map(\.status) == [.accepted])
        let tap = fixture.tap("shared-id", "r-1")
        #expect(try await fixture.ayumi.ingestion.ingest([tap], by: Fixture.transitFeed).map(\.status) == [.accepted])
        #expect(try await fixture.ayumi.ingestion.ingest([tap], by: Fixture.transitFeed).map(\.status) == [.duplicate])
        #expect(try await fixture.ayumi.ingestion.ingest([walk], by: Principal(role: .resident, subject: "r-1")).map(\.status) == [.duplicate])
        #expect(try await fixture.points("r-1") == 1 + 1 + 1)
    }

    @Test("any feed may report walks, but taps only come from the operator's feed and visits from the shops' check-in feed")
    func namedFeeds() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        let gateway = Principal(role: .ingest, subject: nil, feed: "step-gateway")
        let results = try await fixture.ayumi.ingestion.ingest([fixture.walk("w", "r-1", steps: 4_000), fixture.tap("t", "r-1"), fixture.visit("v", "r-1")],
                                                     by: gateway)
        #expect(results.map(\.status) == [.accepted, .rejected, .rejected])
        #expect(results[1].reason?.en == "transit_tap events are not accepted from feed:step-gateway (accepted from: ingest:metro-feed)")
        #expect(try await fixture.ayumi.ingestion.ingest([fixture.visit("v", "r-1")], by: Fixture.transitFeed).map(\.status) == [.rejected])
        // A source not allowed learns nothing about who is enrolled: the same answer for nobody.
        let nobody = try await fixture.ayumi.ingestion.ingest([fixture.tap("t", "nobody")], by: gateway)
        #expect(nobody.first?.reason?.en == "transit_tap events are not accepted from feed:step-gateway (accepted from: ingest:metro-feed)")
        #expect(try await fixture.ayumi.ingestion.ingest([fixture.visit("v", "r-1")], by: Fixture.checkinFeed).map(\.status) == [.accepted])
        #expect(try await fixture.points("r-1") == 2 + 2)
    }

    @Test("a resident's own token cannot report transit taps or visits: rejected, nothing stored, nothing awarded")
    func residentCannotReportSponsoredActivity() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        let resident = Principal(role: .resident, subject: "r-1")
        let results = try await fixture.ayumi.ingestion.ingest([fixture.tap("t-1", "r-1"), fixture.visit("v-1", "r-1")], by: resident)
        #expect(results.map(\.status) == [.rejected, .rejected])
        #expect(results[0].reason?.en == "transit_tap events are not accepted from resident:r-1 (accepted from: ingest:metro-feed)")
        #expect(results[1].reason?.ja == "この送信元（resident:r-1）からはvisitイベントを受け付けていません（受付: ingest:checkin-feed）")
        #expect(try await fixture.points("r-1") == 0)
        // Nothing was awarded: the same ids from the resident are judged again (and rejected), never duplicates.
        #expect(try await fixture.ayumi.ingestion.ingest([fixture.tap("t-1", "r-1")], by: resident).map(\.status) == [.rejected])
    }

    // A backup copies the database file in the data directory: a store without one (a PostgreSQL
    // server) backs up with its own tools, so this test and the next are for the file store.
    @Test("a backup holds the same ledger and can be opened on its own; it never overwrites a file",
          .enabled(if: StoreKind.underTest.keepsOneFile, "ayumi backup copies a database kept in one file"))
    func backup() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        _ = try await fixture.submit([fixture.walk("w-1", "r-1", steps: 6_000), fixture.visit("v-1", "r-1")])
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("ayumi-backup-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        let file = Bootstrap.databasePath(copy)
        try await Bootstrap.backup(dataDirectory: fixture.directory, toPath: file, logger: .init(label: "test"))
        // It holds the signing key and token hashes: only its owner may read it.
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let restored = try await Bootstrap.openExisting(dataDirectory: copy, readOnly: false, environment: fixture.ayumi.dependencies.environment,
                                                    logger: .init(label: "test"))
        #expect(try await restored.accounts.balance(residentID: "r-1").spendable == 5)
        #expect(try await restored.reporting.verifyLedger().violations.isEmpty)
        // The signing key came along: a code issued before the backup still verifies after a restore.
        let code = try await fixture.ayumi.redemptions.issueCode(residentID: "r-1").code
        _ = try await restored.redemptions.redeem(merchantID: "shop-1", code: code, points: 1, idempotencyKey: "k-1")
        await #expect(throws: AyumiError.invalidRequest("\(file) exists; a backup never overwrites a file")) {
            try await Bootstrap.backup(dataDirectory: fixture.directory, toPath: file, logger: .init(label: "test"))
        }
    }

    @Test("maintenance opens never create a database: a mistyped directory is named, and stays empty",
          .enabled(if: StoreKind.underTest.keepsOneFile, "a database kept in one file is the one a mistyped directory could create"))
    func openExistingOnly() async throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("ayumi-missing-\(UUID().uuidString)").path
        await #expect(throws: AyumiError.databaseMissing(path: Bootstrap.databasePath(missing))) {
            try await Bootstrap.openExisting(dataDirectory: missing, readOnly: true, logger: .init(label: "test"))
        }
        await #expect(throws: AyumiError.databaseMissing(path: Bootstrap.databasePath(missing))) {
            try await Bootstrap.backup(dataDirectory: missing, toPath: missing + "-copy", logger: .init(label: "test"))
        }
        #expect(!FileManager.default.fileExists(atPath: missing))
        #expect(!FileManager.default.fileExists(atPath: missing + "-copy"))
    }
}

@Suite("Tokens")
struct TokenTests {
    @Test("a revoked token is refused at once; revoking again changes nothing")
    func revoke() async throws {
        let fixture = try await Fixture.make()
        let token = try await fixture.ayumi.tokens.create(role: .ingest, subject: nil, feed: "metro-feed")
        #expect(try await fixture.ayumi.tokens.authenticate(token: token).map { Principal(role: $0.role, subject: $0.subject, feed: $0.feed) } == Principal(role: .ingest, subject: nil, feed: "metro-feed"))
        let listed = try #require(try await fixture.ayumi.tokens.list(role: .ingest).first)
        #expect(listed.feed == "metro-feed")
        #expect(listed.revokedAt == nil)
        fixture.clock.advance(seconds: 60)
        let revoked = try await fixture.ayumi.tokens.revoke(id: listed.id)
        #expect(revoked.revokedAt == fixture.clock.now)
        #expect(try await fixture.ayumi.tokens.authenticate(token: token) == nil)
        fixture.clock.advance(seconds: 60)
        #expect(try await fixture.ayumi.tokens.revoke(id: listed.id).revokedAt == revoked.revokedAt)
        await #expect(throws: AyumiError.notFound("Token 999")) { try await fixture.ayumi.tokens.revoke(id: 999) }
    }

    @Test("a token given a lifetime is refused from the moment it expires")
    func expiry() async throws {
        let fixture = try await Fixture.make()
        let token = try await fixture.ayumi.tokens.create(role: .admin, subject: nil, lifetimeSeconds: 3_600)
        fixture.clock.advance(seconds: 3_599)
        #expect(try await fixture.ayumi.tokens.authenticate(token: token)?.role == .admin)
        fixture.clock.advance(seconds: 1)
        #expect(try await fixture.ayumi.tokens.authenticate(token: token) == nil)
    }

    // "transit-operator" in the message is the example the use case gives, whatever the program's feeds.
    @Test("an ingest token needs a feed name; other roles have none", arguments: [
        (Role.ingest, String?.none, "an ingest token needs a source: the feed's name, 1-64 letters, digits or -_.: (such as transit-operator)"),
        (.ingest, "bad name", "an ingest token needs a source: the feed's name, 1-64 letters, digits or -_.: (such as transit-operator)"),
        (.admin, "metro-feed", "only ingest tokens have a source"),
    ])
    func feedNames(role: Role, feed: String?, message: String) async throws {
        let fixture = try await Fixture.make()
        await #expect(throws: AyumiError.invalidRequest(message)) {
            try await fixture.ayumi.tokens.create(role: role, subject: nil, feed: feed)
        }
        #expect(try await fixture.ayumi.tokens.list(role: nil).isEmpty)
    }

    @Test("a merchant removed from the registry stops redeeming and its token stops working; its past redemptions stay")
    func removedMerchant() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        _ = try await fixture.submit([fixture.walk("w-1", "r-1", steps: 10_000)])
        let token = try await fixture.ayumi.tokens.create(role: .merchant, subject: "shop-2")
        let code = try await fixture.ayumi.redemptions.issueCode(residentID: "r-1").code
        _ = try await fixture.ayumi.redemptions.redeem(merchantID: "shop-2", code: code, points: 2, idempotencyKey: "k-1")

        // The next start reads a registry without shop-2, over the same database.
        let registry = try String(contentsOfFile: Fixture.merchantsFile, encoding: .utf8)
        let start = registry.range(of: "  - id: shop-2")!.lowerBound, end = registry.range(of: "  - id: shop-3")!.lowerBound
        let file = fixture.directory + "/merchants-without-shop-2.yaml"
        try registry.replacingCharacters(in: start..<end, with: "").write(toFile: file, atomically: true, encoding: .utf8)
        let restarted = try await fixture.store.open(dataDirectory: fixture.directory, rulesDirectory: Fixture.rulesDirectory,
                                             merchantsFile: file, environment: fixture.ayumi.dependencies.environment, logger: .init(label: "test"))
        #expect(try await restarted.tokens.authenticate(token: token) == nil)
        let another = try await restarted.redemptions.issueCode(residentID: "r-1").code
        await #expect(throws: AyumiError.unknownMerchant("shop-2")) {
            try await restarted.redemptions.redeem(merchantID: "shop-2", code: another, points: 1, idempotencyKey: "k-2")
        }
        await #expect(throws: AyumiError.merchantInactive("shop-2")) {
            try await restarted.tokens.create(role: .merchant, subject: "shop-2")
        }
        #expect(restarted.dependencies.program.current.merchants["shop-2"]?.active == false)
        #expect(try await restarted.accounts.balance(residentID: "r-1").spendable == 3)
        let report = try await restarted.reporting.beneficiaryReport(from: fixture.today, to: fixture.today)
        #expect(report.rows.contains { $0.kind == .merchant && $0.id == "shop-2" && $0.name.en == "Station Greengrocer" })
    }
}

@Suite("Refunds")
struct RefundTests {
    /// r-1 walks 10,000 steps (5 points from the city) and visits the centre (2 from the traders), then
    /// redeems 6 at shop-1: both lots are drawn (first to expire first: the same day, so by lot).
    func redeemed(_ fixture: Fixture) async throws -> RedemptionRecord {
        try await fixture.enrol("r-1")
        _ = try await fixture.submit([fixture.walk("w-1", "r-1", steps: 10_000), fixture.visit("v-1", "r-1")])
        let code = try await fixture.ayumi.redemptions.issueCode(residentID: "r-1").code
        return try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: code, points: 6, idempotencyKey: "k-1")
    }

    @Test("partial refunds give points back into the lots they came from, never more than was redeemed, and show in history")
    func partial() async throws {
        let fixture = try await Fixture.make()
        let redemption = try await redeemed(fixture)
        #expect(try await fixture.points("r-1") == 1)
        let first = try await fixture.ayumi.redemptions.refund(merchantID: "shop-1", redemptionID: redemption.id, points: 2, idempotencyKey: "f-1")
        #expect(first.points == 2 && first.refundable == 4 && first.expired.isEmpty)
        #expect(try await fixture.points("r-1") == 3)
        // The rest, without naming it; then nothing is left.
        let rest = try await fixture.ayumi.redemptions.refund(merchantID: "shop-1", redemptionID: redemption.id, points: nil, idempotencyKey: "f-2")
        #expect(rest.points == 4 && rest.refundable == 0)
        #expect((first.funding + rest.funding).reduce(into: [String: Int64]()) { $0[$1.sponsorID, default: 0] += $1.points }
                == redemption.funding.reduce(into: [String: Int64]()) { $0[$1.sponsorID, default: 0] += $1.points },
                "every point back to the sponsor's lot it was drawn from")
        await #expect(throws: AyumiError.refundExceedsRedemption(refundable: 0)) {
            try await fixture.ayumi.redemptions.refund(merchantID: "shop-1", redemptionID: redemption.id, points: 1, idempotencyKey: "f-3")
        }
        #expect(try await fixture.points("r-1") == 7)
        let (lines, _) = try await fixture.ayumi.accounts.history(residentID: "r-1", cursor: nil, limit: 10)
        #expect(lines.prefix(3).map { "\($0.kind.rawValue) \($0.points)" } == ["refund 4", "refund 2", "redemption -6"])
        #expect(lines.first?.reason == LocalizedText(ja: "かどのパン屋から返金", en: "Refunded by Corner Bakery"))
        // The refunded points spend again like any other.
        let again = try await fixture.ayumi.redemptions.issueCode(residentID: "r-1").code
        #expect(try await fixture.ayumi.redemptions.redeem(merchantID: "shop-2", code: again, points: 7, idempotencyKey: "k-2").points == 7)
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
        // Reports count what a shop kept: shop-1 took 6 and gave 6 back.
        let facts = try await fixture.ayumi.dependencies.reports.beneficiaryFacts(from: fixture.today, to: fixture.today)
        #expect(facts.cells[.redeemed]?[.merchant]?["shop-1"]?.points == 0)
        #expect(facts.cells[.redeemed]?[.merchant]?["shop-2"]?.points == 7)
        #expect(facts.totals[.redeemed]?.points == 7)
    }

    @Test("a refund is idempotent by key; another till's redemption is unknown, as is one never made; too late is refused")
    func refusals() async throws {
        let fixture = try await Fixture.make()
        let redemption = try await redeemed(fixture)
        let first = try await fixture.ayumi.redemptions.refund(merchantID: "shop-1", redemptionID: redemption.id, points: 1, idempotencyKey: "f-1")
        #expect(try await fixture.ayumi.redemptions.refund(merchantID: "shop-1", redemptionID: redemption.id, points: 1, idempotencyKey: "f-1") == first)
        await #expect(throws: AyumiError.idempotencyKeyReused) {
            try await fixture.ayumi.redemptions.refund(merchantID: "shop-1", redemptionID: redemption.id, points: 2, idempotencyKey: "f-1")
        }
        await #expect(throws: AyumiError.unknownRedemption(String(redemption.id))) {
            try await fixture.ayumi.redemptions.refund(merchantID: "shop-2", redemptionID: redemption.id, points: 1, idempotencyKey: "f-2")
        }
        await #expect(throws: AyumiError.unknownRedemption("999")) {
            try await fixture.ayumi.redemptions.refund(merchantID: "shop-1", redemptionID: 999, points: 1, idempotencyKey: "f-3")
        }
        fixture.clock.advance(seconds: 31 * 86_400)
        await #expect(throws: AyumiError.refundTooLate(days: 30)) {
            try await fixture.ayumi.redemptions.refund(merchantID: "shop-1", redemptionID: redemption.id, points: 1, idempotencyKey: "f-4")
        }
        #expect(try await fixture.points("r-1") == 2)
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
    }

    @Test("points of a lot past its last day go back to its sponsor, as expiry would, not to the resident")
    func expiredLot() async throws {
        let directory = try Fixture.rules(editing: ["program.yaml": {
            $0.replacingOccurrences(of: "pointExpiryMonths: 12", with: "pointExpiryMonths: 1")
                .replacingOccurrences(of: "refundDaysMax: 30", with: "refundDaysMax: 90")
        }])
        let fixture = try await Fixture.make(rulesDirectory: directory)
        let redemption = try await redeemed(fixture)
        fixture.clock.advance(seconds: 40 * 86_400)   // both lots lived one month
        let refund = try await fixture.ayumi.redemptions.refund(merchantID: "shop-1", redemptionID: redemption.id, points: nil, idempotencyKey: "f-1")
        #expect(refund.points == 6)
        #expect(refund.expired == refund.funding)
        #expect(try await fixture.ayumi.accounts.balance(residentID: "r-1").spendable == 0)
        let (lines, _) = try await fixture.ayumi.accounts.history(residentID: "r-1", cursor: nil, limit: 3)
        #expect(lines.first.map { "\($0.kind.rawValue) \($0.points)" } == "refund 0")
        #expect(lines.first?.reason.en == "Refunded by Corner Bakery (6 points were past their last day and went back to their sponsors)")
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
    }

    @Test("property: 20 one-point refunds racing over a 6-point redemption: exactly 6 succeed, the rest are refused")
    func racing() async throws {
        let fixture = try await Fixture.make()
        let redemption = try await redeemed(fixture)
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<20 {
                group.addTask {
                    (try? await fixture.ayumi.redemptions.refund(merchantID: "shop-1", redemptionID: redemption.id, points: 1,
                                                                   idempotencyKey: "race-\(index)")) != nil
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 6)
        #expect(try await fixture.points("r-1") == 7)
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
    }
}

@Suite("Cards")
struct CardTests {
    func funded() async throws -> (Fixture, IssuedCard) {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-card")
        _ = try await fixture.submit([fixture.walk("w-1", "r-card", steps: 10_000)])
        return (fixture, try await fixture.ayumi.cards.issue(residentID: "r-card"))
    }

    @Test("a card and its PIN redeem like a code; a retry answers the same; the printed card holds its number only")
    func redeem() async throws {
        let (fixture, card) = try await funded()
        #expect(card.number.count == 16 && CardNumber.checks(card.number) && PIN.isValid(card.pin))
        let record = try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: card.number, points: 2, idempotencyKey: "k-1", pin: card.pin)
        #expect(record.points == 2 && record.residentID == "r-card")
        #expect(try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: card.number, points: 2, idempotencyKey: "k-1", pin: card.pin) == record)
        #expect(try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: card.number, points: 1, idempotencyKey: "k-2", pin: card.pin).points == 1)
        #expect(try await fixture.points("r-card") == 2)
        let svg = try CardPrint.svg(number: card.number, programName: ("あゆみ", "Ayumi"))
        #expect(try decodeQRCode(svg: svg) == card.number)
        #expect(!svg.contains("r-card") && !svg.contains(card.pin + "<"))
        await #expect(throws: AyumiError.pinRequired) {
            try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: card.number, points: 1, idempotencyKey: "k-3")
        }
        // The PIN is kept only as a salted slow hash.
        let stored = try #require(try await fixture.ayumi.dependencies.store.card(number: card.number))
        #expect(stored.pinHash != card.pin && Data(base64Encoded: stored.pinHash)?.count == 32 && Data(base64Encoded: stored.pinSalt)?.count == 16)
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
    }

    @Test("five wrong PINs lock the card, even against the right one, until the city office unlocks it")
    func lock() async throws {
        let (fixture, card) = try await funded()
        let wrong = card.pin == "0000" ? "1111" : "0000"
        for left in [4, 3, 2, 1] {
            await #expect(throws: AyumiError.pinWrong(triesLeft: left)) {
                try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: card.number, points: 1, idempotencyKey: "w-\(left)", pin: wrong)
            }
        }
        await #expect(throws: AyumiError.cardLocked) {
            try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: card.number, points: 1, idempotencyKey: "w-0", pin: wrong)
        }
        await #expect(throws: AyumiError.cardLocked) {
            try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: card.number, points: 1, idempotencyKey: "right", pin: card.pin)
        }
        try await fixture.ayumi.cards.unlock(residentID: "r-card")
        #expect(try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: card.number, points: 1, idempotencyKey: "right", pin: card.pin).points == 1)
        #expect(try await fixture.points("r-card") == 4)
    }

    @Test("property: 20 wrong PINs sent at once are 5 tries at most: the card locks and the right PIN is refused")
    func racingPINs() async throws {
        let (fixture, card) = try await funded()
        let wrong = card.pin == "0000" ? "1111" : "0000"
        let outcomes = await withTaskGroup(of: AyumiError?.self) { group in
            for index in 0..<20 {
                group.addTask {
                    do {
                        _ = try await fixture.ayumi.redemptions.redeem(merchantID: "shop-\(1 + index % 4)", code: card.number, points: 1,
                                                                       idempotencyKey: "w-\(index)", pin: wrong)
                        return nil
                    } catch let error as AyumiError { return error } catch { return .busy }
                }
            }
            return await group.reduce(into: [AyumiError?]()) { $0.append($1) }
        }
        let wrongTries = outcomes.filter { if case .pinWrong = $0 { true } else { false } }.count
        #expect(wrongTries <= 4, "the fifth counted try locks the card")
        #expect(outcomes.allSatisfy { if case .pinWrong = $0 { true } else { $0 == .cardLocked } })
        await #expect(throws: AyumiError.cardLocked) {
            try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: card.number, points: 1, idempotencyKey: "right", pin: card.pin)
        }
        #expect(try await fixture.points("r-card") == 5)
    }

    @Test("a right PIN clears earlier wrong ones; a replaced card stops working; a mistyped number is caught")
    func replace() async throws {
        let (fixture, card) = try await funded()
        let wrong = card.pin == "0000" ? "1111" : "0000"
        for index in 0..<3 {
            _ = try? await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: card.number, points: 1, idempotencyKey: "w-\(index)", pin: wrong)
        }
        _ = try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: card.number, points: 1, idempotencyKey: "k-1", pin: card.pin)
        await #expect(throws: AyumiError.pinWrong(triesLeft: 4)) {
            try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: card.number, points: 1, idempotencyKey: "w-9", pin: wrong)
        }
        let replacement = try await fixture.ayumi.cards.issue(residentID: "r-card")
        #expect(replacement.number != card.number)
        await #expect(throws: AyumiError.cardUnknown) {
            try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: card.number, points: 1, idempotencyKey: "k-2", pin: card.pin)
        }
        #expect(try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: replacement.number, points: 1, idempotencyKey: "k-3",
                                                           pin: replacement.pin).points == 1)
        var typo = Array(replacement.number)
        typo[5] = typo[5] == "1" ? "2" : "1"
        await #expect(throws: AyumiError.codeNumberMistyped) {
            try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: String(typo), points: 1, idempotencyKey: "k-4", pin: replacement.pin)
        }
        await #expect(throws: AyumiError.unknownResident("r-nobody")) { try await fixture.ayumi.cards.issue(residentID: "r-nobody") }
    }
}

@Suite("KPI report")
struct KPIReportTests {
    @Test("each monthly indicator counts what happened, beside its target; a figure of fewer than 10 residents, or whose complement is, reads X")
    func indicators() async throws {
        let fixture = try await Fixture.make()
        for index in 0..<40 { try await fixture.enrol("r-\(index)") }
        // r-0…r-9 walk 5,000…5,900 steps (r-0 then re-syncs 7,000: its day counts once, at 7,000), r-10…r-19
        // 10,000…10,900; r-0…r-11 ride once; r-20…r-29 visit the centre; r-30…r-39 do nothing.
        let walks = (0..<20).map { fixture.walk("w-\($0)", "r-\($0)", steps: ($0 < 10 ? 5_000 : 9_000) + 100 * Int64($0)) }
        _ = try await fixture.submit(walks + [fixture.walk("w-0b", "r-0", steps: 7_000)] + (0..<12).map { fixture.tap("t-\($0)", "r-\($0)") }
                                     + (20..<30).map { fixture.visit("v-\($0)", "r-\($0)") })
        // r-10…r-19 each spend 1 point.
        for index in 10..<20 {
            let code = try await fixture.ayumi.redemptions.issueCode(residentID: "r-\(index)").code
            _ = try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: code, points: 1, idempotencyKey: "k-\(index)")
        }
        let report = try await fixture.ayumi.reporting.kpis(from: "2026-11", to: "2026-12")
        func values(_ kpi: KPI) -> [String] {
            report.rows.first { $0.kpi == kpi }!.values.map { $0.map { Workbook.decimal($0, kpi.scale == 1 ? 0 : kpi.scale == 10 ? 1 : 2) } ?? "X" }
        }
        #expect(report.months == ["2026-11", "2026-12"])
        #expect(values(.enrolled) == ["40", "40"])
        #expect(values(.activeRate) == ["75.0", "X"], "30 of 40; in December nobody was active, which names everyone")
        // Walks 3 + 2×9 + 5×10 = 71 points (5 a day at most), rides 12, visits 2×10.
        #expect(values(.pointsAwarded) == ["103", "X"])
        #expect(values(.redemptions) == ["10", "X"])
        #expect(values(.averageDailySteps) == ["8050", "X"], "(7,000 + 5,100 + … + 5,900 + 10,000 + … + 10,900) / 20 days")
        #expect(values(.reaching8000) == ["50.0", "X"], "r-10…r-19 of 20 walkers")
        #expect(values(.ridesPerParticipant) == ["0.40", "X"], "12 rides, 30 active")
        #expect(values(.downtownVisits) == ["10", "X"])
        let csv = report.csv(.en)
        #expect(csv.hasPrefix("\u{FEFF}indicator,name,kind,target,target_year,2026-11,2026-12\r\n"))
        #expect(csv.contains("\r\nrides-per-participant,Transit rides per participant,outcome,12.50,2027,0.40,X\r\n"))
        #expect(csv.contains("\r\nactive-rate,Active rate (%),output,60.0,2027,75.0,X\r\n"))
        #expect(try report.xlsx(.ja) == (try await fixture.ayumi.reporting.kpis(from: "2026-11", to: "2026-12").xlsx(.ja)))
        // The page: a chart per indicator, the target's dashed line, X for a suppressed month, no script.
        let html = report.html(.en)
        #expect(html.components(separatedBy: "<svg ").count - 1 == KPI.allCases.count)
        #expect(html.contains(">target 12.50 (2027)</text>") && html.contains(">X</text>") && !html.contains("<script"))
        #expect(html.contains(">8050</text>"), "November's average daily steps labels its bar")
    }

    @Test("a name that begins like a spreadsheet formula is written so that opening the CSV never runs it")
    func formulaNames() {
        #expect(["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "Corner Bakery", "みなと"].map(BeneficiaryReport.csvText)
                == ["'=HYPERLINK(\"x\")", "'+1", "'-2", "'@SUM(A1)", "Corner Bakery", "みなと"])
    }

    @Test("fewer than 10 behind a figure, or behind its complement, hides it", arguments: [(9, 0), (10, 0), (10, 9), (10, 10)])
    func suppression(redeemers: Int, notReaching: Int) {
        let facts = IndicatorFacts(enrolled: 100, active: 50, pointsAwarded: 500, redemptions: Int64(redeemers), walkDays: 30, steps: 300_000,
                                   walkers: Int64(10 + notReaching), walkersReaching8000: 10, rides: 0, visits: 0, awardedResidents: 0,
                                   redeemers: Int64(redeemers), riders: 0, visitors: 0)
        let report = KPIReport.make(facts: [("2026-11", facts)], targets: [], groupSizeMin: 10)
        let values = Dictionary(uniqueKeysWithValues: report.rows.map { ($0.kpi, $0.values[0]) })
        #expect((values[.redemptions]! != nil) == (redeemers >= 10))
        #expect((values[.reaching8000]! != nil) == (notReaching >= 10))
    }
}

@Suite("Settlement")
struct SettlementTests {
    /// November 2026 from the 1st: 30 residents earn every day; each day some redeem 1-6 points at
    /// one of four shops and some of those are refunded in part; all drawn from one seed.
    func generatedNovember() async throws -> (Fixture, redemptions: [RedemptionRecord]) {
        let fixture = try await Fixture.make(start: Date(timeIntervalSince1970: 1_793_505_600))   // 2026-11-01 12:00 in Tokyo
        var random = SplitMix64(seed: 11)
        for index in 0..<30 { try await fixture.enrol("r-\(index)") }
        var redemptions: [RedemptionRecord] = []
        for day in 0..<30 {
            _ = try await fixture.submit((0..<30).map { fixture.walk("w-\(day)-\($0)", "r-\($0)", steps: 6_000 + Int64(random.next() % 6_000)) }
                                         + (0..<30).filter { _ in random.next() % 3 == 0 }.map { fixture.visit("v-\(day)-\($0)", "r-\($0)") })
            for index in 0..<30 where random.next() % 4 == 0 {
                let code = try await fixture.ayumi.redemptions.issueCode(residentID: "r-\(index)").code
                let merchant = "shop-\(1 + random.next() % 4)", points = Int64(random.next() % 6) + 1
                guard let record = try? await fixture.ayumi.redemptions.redeem(merchantID: merchant, code: code, points: points,
                                                                                idempotencyKey: "k-\(day)-\(index)") else { continue }
                redemptions.append(record)
                if random.next() % 5 == 0 {
                    _ = try await fixture.ayumi.redemptions.refund(merchantID: merchant, redemptionID: record.id, points: 1 + Int64(random.next() % UInt64(record.points)),
                                                                   idempotencyKey: "f-\(day)-\(index)")
                }
            }
            fixture.clock.advance(seconds: 86_400)
        }
        return (fixture, redemptions)
    }

    @Test("a generated month settles to the ledger's point: every merchant's net, every sponsor's share, and the yen")
    func reconcile() async throws {
        let (fixture, redemptions) = try await generatedNovember()
        #expect(redemptions.count > 150)
        #expect(fixture.today == LocalDate("2026-12-01"))
        await #expect(throws: AyumiError.invalidRequest("2026-11 can be settled from 2026-12-02 (today is 2026-12-01)")) {
            try await fixture.ayumi.reporting.settle(month: "2026-11")
        }
        fixture.clock.advance(seconds: 86_400)
        let settlement = try await fixture.ayumi.reporting.settle(month: "2026-11")
        // The merchants' accounts hold exactly what they kept: redemptions less refunds.
        let audit = try await fixture.ayumi.dependencies.reports.beneficiaryFacts(from: LocalDate("2026-11-01")!, to: LocalDate("2026-11-30")!)
        for statement in settlement.statements {
            #expect(statement.netPoints == audit.cells[.redeemed]?[.merchant]?[statement.merchantID]?.points, "\(statement.merchantID)")
            #expect(statement.yen == statement.netPoints, "1 point = 1 yen in the tests' program")
            #expect(statement.redemptions == redemptions.filter { $0.merchantID == statement.merchantID }.count)
        }
        #expect(settlement.netPoints == audit.totals[.redeemed]?.points)
        // Each sponsor's share is what the redeemed points drew from its lots, less what went back.
        let drawn = redemptions.reduce(into: [String: Int64]()) { totals, record in
            for share in record.funding { totals[record.merchantID + "/" + share.sponsorID, default: 0] += share.points }
        }
        for statement in settlement.statements {
            for line in statement.lines { #expect(line.redeemedPoints == drawn[statement.merchantID + "/" + line.sponsorID]) }
        }
        #expect(settlement.statements.flatMap(\.lines).allSatisfy { $0.adjustmentPoints == 0 })
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
    }

    @Test("a settled month is frozen: a later refund shows in the next month as an adjustment, never in the statement sent")
    func frozen() async throws {
        let (fixture, redemptions) = try await generatedNovember()
        fixture.clock.advance(seconds: 86_400)
        let settled = try await fixture.ayumi.reporting.settle(month: "2026-11")
        let csv = settled.csv(.ja)
        #expect(csv.hasPrefix("\u{FEFF}対象月,加盟店ID,加盟店名,振込先参照,負担者ID,負担者名,"))
        let last = redemptions.last!
        let refund = try await fixture.ayumi.redemptions.refund(merchantID: last.merchantID, redemptionID: last.id, points: nil, idempotencyKey: "late")
        #expect(refund.points > 0)
        let again = try await fixture.ayumi.reporting.settlement(month: "2026-11")
        #expect(again == settled)
        #expect(again.csv(.ja) == csv, "byte for byte")
        let december = try await fixture.ayumi.reporting.settlement(month: "2026-12")
        #expect(december.settledAt == nil, "a draft until December is over")
        let statement = try #require(december.statements.first { $0.merchantID == last.merchantID })
        #expect(statement.lines.reduce(0) { $0 + $1.adjustmentPoints } == refund.points)
        #expect(statement.netPoints == -refund.points, "the shop owes back what it refunded")
        await #expect(throws: AyumiError.self) { try await fixture.ayumi.reporting.settle(month: "2026-12") }
        #expect(december.html(.en).contains("Adjustments"))
        #expect(settled.html(.ja).contains("かどのパン屋") && settled.html(.ja).contains("確定"))
    }
}

@Suite("Expiry")
struct ExpiryTests {
    /// Points live one month: r-1 earns 5 (walk, the city) and 2 (visit, the shops) on 2026-11-25
    /// and spends 3 (the walk's lot first: same last day, lower id).
    func fixture() async throws -> Fixture {
        let directory = try Fixture.rules(editing: ["program.yaml": { $0.replacingOccurrences(of: "pointExpiryMonths: 12", with: "pointExpiryMonths: 1") }])
        let fixture = try await Fixture.make(rulesDirectory: directory)
        try await fixture.enrol("r-1")
        _ = try await fixture.submit([fixture.walk("w-1", "r-1", steps: 10_000), fixture.visit("v-1", "r-1")])
        let code = try await fixture.ayumi.redemptions.issueCode(residentID: "r-1").code
        _ = try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: code, points: 3, idempotencyKey: "k-1")
        return fixture
    }

    @Test("the balance lists what expires in the next 30 days; past the last day the job returns it to its sponsors, once")
    func expire() async throws {
        let fixture = try await fixture()
        let balance = try await fixture.ayumi.accounts.balance(residentID: "r-1")
        #expect(balance.expiring == [ExpiringPoints(lastDay: LocalDate("2026-12-24")!, points: 4)], "earned 11-25, one month: valid to 12-24")
        #expect(try await fixture.ayumi.accounts.expireLots(asOf: fixture.today) == ExpiryRun(lots: 0, points: 0))
        fixture.clock.advance(seconds: 30 * 86_400)   // 2026-12-25
        #expect(try await fixture.ayumi.accounts.balance(residentID: "r-1") == Balance(spendable: 0, pastExpiry: 4))
        #expect(try await fixture.ayumi.accounts.expireLots(asOf: fixture.today) == ExpiryRun(lots: 2, points: 4))
        #expect(try await fixture.ayumi.accounts.expireLots(asOf: fixture.today) == ExpiryRun(lots: 0, points: 0))
        #expect(try await fixture.ayumi.accounts.balance(residentID: "r-1") == Balance(spendable: 0, pastExpiry: 0))
        let (lines, _) = try await fixture.ayumi.accounts.history(residentID: "r-1", cursor: nil, limit: 5)
        #expect(lines.first.map { "\($0.kind.rawValue) \($0.points) \($0.localDate)" } == "expiry -4 2026-12-25", "one line for the day")
        #expect(lines.first?.reason == LocalizedText(ja: "有効期限切れ（2026-12-24まで有効）", en: "Expired (valid until 2026-12-24)"))
        // Each sponsor got back what was left of its lot: the city 2 of 5, the shops 2 of 2.
        let facts = try await fixture.ayumi.reporting.verifyLedger()
        #expect(facts.violations.isEmpty)
    }

    @Test("two expiry runs at once expire each point once")
    func concurrent() async throws {
        let fixture = try await fixture()
        fixture.clock.advance(seconds: 31 * 86_400)
        let runs = await withTaskGroup(of: ExpiryRun.self) { group in
            for _ in 0..<4 { group.addTask { (try? await fixture.ayumi.accounts.expireLots(asOf: fixture.today)) ?? ExpiryRun(lots: 0, points: 0) } }
            return await group.reduce(into: [ExpiryRun]()) { $0.append($1) }
        }
        #expect(runs.reduce(0) { $0 + $1.points } == 4)
        #expect(runs.reduce(0) { $0 + $1.lots } == 2)
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
    }

    @Test("a refund after the job ran sends the points of an expired lot to its sponsor, and the ledger still balances")
    func refundAfterExpiry() async throws {
        let directory = try Fixture.rules(editing: ["program.yaml": {
            $0.replacingOccurrences(of: "pointExpiryMonths: 12", with: "pointExpiryMonths: 1").replacingOccurrences(of: "refundDaysMax: 30", with: "refundDaysMax: 60")
        }])
        let fixture = try await Fixture.make(rulesDirectory: directory)
        try await fixture.enrol("r-1")
        _ = try await fixture.submit([fixture.walk("w-1", "r-1", steps: 10_000)])
        let code = try await fixture.ayumi.redemptions.issueCode(residentID: "r-1").code
        let redemption = try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: code, points: 3, idempotencyKey: "k-1")
        fixture.clock.advance(seconds: 40 * 86_400)
        #expect(try await fixture.ayumi.accounts.expireLots(asOf: fixture.today).points == 2)
        let refund = try await fixture.ayumi.redemptions.refund(merchantID: "shop-1", redemptionID: redemption.id, points: nil, idempotencyKey: "f-1")
        #expect(refund.expired == [SponsorShare(sponsorID: "health-office", points: 3)])
        #expect(try await fixture.points("r-1") == 0)
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
    }
}

@Suite("Merchants")
struct MerchantTests {
    /// The tests' registry with limits on shop-1: 10 points a day in all, 4 per resident.
    func limited() throws -> String {
        let registry = try String(contentsOfFile: Fixture.merchantsFile, encoding: .utf8)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ayumi-merchants-\(UUID().uuidString).yaml").path
        try registry.replacingOccurrences(of: "    settlementAccount: ACCT-SHOP-1\n",
                                          with: "    settlementAccount: ACCT-SHOP-1\n    limits: {pointsPerDay: 10, pointsPerResidentPerDay: 4}\n")
            .write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    func spend(_ fixture: Fixture, _ resident: String, _ points: Int64, at merchant: String = "shop-1", key: String) async throws -> RedemptionRecord {
        let code = try await fixture.ayumi.redemptions.issueCode(residentID: resident).code
        return try await fixture.ayumi.redemptions.redeem(merchantID: merchant, code: code, points: points, idempotencyKey: key)
    }

    @Test("a shop's daily limit and a resident's daily limit at the shop hold, net of refunds, and say what is left")
    func limits() async throws {
        let fixture = try await Fixture.make(merchantsFile: try limited())
        for resident in ["r-1", "r-2", "r-3"] {
            try await fixture.enrol(resident)
            _ = try await fixture.submit([fixture.walk("w-\(resident)", resident, steps: 10_000), fixture.visit("v-\(resident)", resident)])
        }
        _ = try await spend(fixture, "r-1", 3, key: "k-1")
        await #expect(throws: AyumiError.residentDailyLimitAtMerchant(left: 1)) { try await spend(fixture, "r-1", 2, key: "k-2") }
        _ = try await spend(fixture, "r-1", 2, at: "shop-2", key: "k-3")   // another shop has no limit
        let second = try await spend(fixture, "r-2", 4, key: "k-4")
        await #expect(throws: AyumiError.merchantDailyLimit(left: 3)) { try await spend(fixture, "r-3", 4, key: "k-5") }
        // A refund gives the day's room back.
        _ = try await fixture.ayumi.redemptions.refund(merchantID: "shop-1", redemptionID: second.id, points: 2, idempotencyKey: "f-1")
        #expect(try await spend(fixture, "r-3", 4, key: "k-6").points == 4)
        // The next day starts afresh.
        fixture.clock.advance(seconds: 86_400)
        #expect(try await spend(fixture, "r-1", 2, key: "k-7").points == 2)
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
    }

    @Test("a suspended shop redeems and refunds nothing, keeps its token, and stays suspended across a restart until reinstated")
    func suspension() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        _ = try await fixture.submit([fixture.walk("w-1", "r-1", steps: 10_000)])
        let token = try await fixture.ayumi.tokens.create(role: .merchant, subject: "shop-1")
        let redemption = try await spend(fixture, "r-1", 2, key: "k-1")
        #expect(try await fixture.ayumi.merchants.setSuspended(merchantID: "shop-1", true).suspended)
        await #expect(throws: AyumiError.merchantSuspended("shop-1")) { try await spend(fixture, "r-1", 1, key: "k-2") }
        await #expect(throws: AyumiError.merchantSuspended("shop-1")) {
            try await fixture.ayumi.redemptions.refund(merchantID: "shop-1", redemptionID: redemption.id, points: 1, idempotencyKey: "f-1")
        }
        #expect(try await fixture.ayumi.tokens.authenticate(token: token) != nil, "its token still reads its statements")
        let restarted = try await fixture.store.open(dataDirectory: fixture.directory, rulesDirectory: Fixture.rulesDirectory,
                                                 merchantsFile: Fixture.merchantsFile,
                                                 environment: fixture.ayumi.dependencies.environment, logger: .init(label: "test"))
        #expect(restarted.dependencies.program.current.merchants["shop-1"]?.suspended == true)
        await #expect(throws: AyumiError.merchantSuspended("shop-1")) {
            let code = try await restarted.redemptions.issueCode(residentID: "r-1").code
            return try await restarted.redemptions.redeem(merchantID: "shop-1", code: code, points: 1, idempotencyKey: "k-3")
        }
        _ = try await restarted.merchants.setSuspended(merchantID: "shop-1", false)
        #expect(try await restarted.redemptions.refund(merchantID: "shop-1", redemptionID: redemption.id, points: 1, idempotencyKey: "f-2").points == 1)
        await #expect(throws: AyumiError.unknownMerchant("m-999")) { try await restarted.merchants.setSuspended(merchantID: "m-999", true) }
    }

    @Test("merchants imported from CSV redeem at once, survive a restart with the registry file, and export back the same")
    func importExport() async throws {
        let fixture = try await Fixture.make()
        let ruleset = fixture.ayumi.dependencies.program.current.ruleset
        let csv = "\u{FEFF}" + MerchantsParser.csvColumns.joined(separator: ",") + "\r\n"
            + "m-101,\"鈴木商店, 本店\",\"Suzuki Store, Main\",grocery,centre,SETTLE-101,500,,\r\n"
            + "m-102,はま茶房,Hama Tea,cafe,centre,SETTLE-102,,50,false\r\n"
        let merchants = try MerchantsParser.parseCSV(csv, file: "new.csv", ruleset: ruleset)
        #expect(merchants.map(\.name.en) == ["Suzuki Store, Main", "Hama Tea"])
        #expect(merchants[0].pointsPerDayMax == 500 && merchants[1].pointsPerResidentPerDayMax == 50 && !merchants[1].active)
        try await fixture.ayumi.merchants.save(merchants)
        try await fixture.enrol("r-1")
        _ = try await fixture.submit([fixture.walk("w-1", "r-1", steps: 10_000)])
        #expect(try await spend(fixture, "r-1", 1, at: "m-101", key: "k-1").points == 1)
        let restarted = try await fixture.store.open(dataDirectory: fixture.directory, rulesDirectory: Fixture.rulesDirectory,
                                                 merchantsFile: Fixture.merchantsFile,
                                                 environment: fixture.ayumi.dependencies.environment, logger: .init(label: "test"))
        #expect(restarted.dependencies.program.current.merchants["m-101"]?.active == true)
        let exported = MerchantsParser.csv(restarted.merchants.list())
        let again = try MerchantsParser.parseCSV(exported, file: "export.csv", ruleset: ruleset)
        #expect(again == restarted.merchants.list().map { var m = $0; m.suspended = false; return m })
        let yaml = try MerchantsParser.parse(MerchantsParser.yaml(restarted.merchants.list()), file: "export.yaml", ruleset: ruleset)
        #expect(yaml == again)
    }

    @Test("the merchant export runs no formula in a spreadsheet, and imports back unchanged", arguments: [
        ("=HYPERLINK(\"http://evil.example\",\"pay\")", "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"pay\"\")\""), ("+81 3 0000", "'+81 3 0000"),
        ("-", "'-"), ("@SUM(A1)", "'@SUM(A1)"), ("'quoted", "''quoted"), ("''two", "'''two"), ("\tTab", "'\tTab"), ("plain", "plain"),
    ])
    func exportNeutralised(name: String, expected: String) async throws {
        let fixture = try await Fixture.make()
        let ruleset = fixture.ayumi.dependencies.program.current.ruleset
        let merchant = Merchant(id: "m-201", name: LocalizedText(ja: name, en: name), category: name, zoneID: "centre", settlementAccount: name,
                                active: true)
        let exported = MerchantsParser.csv([merchant])
        #expect(exported.contains(",\(expected),\(expected),\(expected),centre,\(expected),"), "\(exported)")
        #expect(try MerchantsParser.parseCSV(exported, file: "export.csv", ruleset: ruleset) == [merchant])
    }

    @Test("a hand-made CSV loses one leading apostrophe before a formula character or an apostrophe, as the README says; others stay")
    func importDropsOneApostrophe() throws {
        let ruleset = try RulesParser.load(directory: Fixture.rulesDirectory)
        let csv = MerchantsParser.csvColumns.joined(separator: ",") + "\n" + "m-301,'=ACC,Shop,'cafe,centre,''x,,,\n"
        let merchant = try #require(try MerchantsParser.parseCSV(csv, file: "hand.csv", ruleset: ruleset).first)
        #expect((merchant.name.ja, merchant.category, merchant.settlementAccount) == ("=ACC", "'cafe", "'x"))
    }

    @Test("a CSV with a mistake names its line and column", arguments: [
        ("m-103,a,b,cafe,uptown,S,,,", "new.csv:2:16: error: unknown zone 'uptown' (see zones.geojson)"),
        ("m-103,a,b,cafe,centre,S,0,,", "new.csv:2:25: error: expected a whole number from 1 to 1,000,000,000, or nothing"),
        ("m-103,a,b,cafe,centre,S,,,maybe", "new.csv:2:27: error: expected true, false or nothing"),
        ("m-103,a,b,cafe,centre", "new.csv:2:1: error: expected 9 fields, found 5"),
        ("m-103,\"a,b,cafe,centre,S,,,", "new.csv:2:7: error: a quoted field is not closed"),
    ])
    func csvErrors(line: String, message: String) async throws {
        let fixture = try await Fixture.make()
        let csv = MerchantsParser.csvColumns.joined(separator: ",") + "\n" + line + "\n"
        let failure = try #require(throws: RulesCheckFailure.self) {
            try MerchantsParser.parseCSV(csv, file: "new.csv", ruleset: fixture.ayumi.dependencies.program.current.ruleset)
        }
        #expect(failure.diagnostics.map(\.description) == [message])
    }
}

@Suite("Redemption")
struct RedemptionTests {
    func funded(_ fixture: Fixture, steps: Int64 = 10_000) async throws -> String {
        try await fixture.enrol("r-1")
        _ = try await fixture.submit([fixture.walk("w-1", "r-1", steps: steps), fixture.visit("v-1", "r-1")])
        return try await fixture.ayumi.redemptions.issueCode(residentID: "r-1").code
    }

    @Test("the 12-digit number redeems the code it was issued with, once; a retry after expiry answers the same")
    func number() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        _ = try await fixture.submit([fixture.walk("w-1", "r-1", steps: 10_000)])
        let issued = try await fixture.ayumi.redemptions.issueCode(residentID: "r-1")
        #expect(issued.number.count == 12 && issued.number.allSatisfy(\.isNumber))
        let record = try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: issued.number, points: 2, idempotencyKey: "k-1")
        #expect(record.points == 2)
        await #expect(throws: AyumiError.codeAlreadyUsed) {
            try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: issued.number, points: 1, idempotencyKey: "k-2")
        }
        await #expect(throws: AyumiError.codeAlreadyUsed) {
            try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: issued.code, points: 1, idempotencyKey: "k-3")
        }
        fixture.clock.advance(seconds: 600)
        #expect(try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: issued.number, points: 2, idempotencyKey: "k-1") == record)
        #expect(try await fixture.points("r-1") == 3)
    }

    @Test("a mistyped number is caught by its check digit; unknown numbers are throttled per till after 10 in 10 minutes")
    func numberGuessing() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        _ = try await fixture.submit([fixture.walk("w-1", "r-1", steps: 10_000)])
        let issued = try await fixture.ayumi.redemptions.issueCode(residentID: "r-1")
        // Luhn's own example: 7992739871 takes 3.
        #expect(CodeNumber.checkDigit("7992739871") == 3 && CodeNumberTestHelper.checkDigit("7992739871") == 3)
        var typo = Array(issued.number)
        typo[3] = typo[3] == "0" ? "1" : "0"
        await #expect(throws: AyumiError.codeNumberMistyped) {
            try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: String(typo), points: 1, idempotencyKey: "k-typo")
        }
        // Numbers that check out but were never issued: 10 are answered, the 11th is refused even for a real one.
        var guesses = 0, candidate: UInt64 = 12_345_678_900
        while guesses < 10 {
            candidate += 1
            let body = String(candidate)
            let number = body + String(CodeNumberTestHelper.checkDigit(body))
            guard number != issued.number else { continue }
            await #expect(throws: AyumiError.codeNumberUnknown) {
                try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: number, points: 1, idempotencyKey: "k-\(guesses)")
            }
            guesses += 1
        }
        await #expect(throws: AyumiError.tooManyAttempts(retryAfterSeconds: 600)) {
            try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: issued.number, points: 1, idempotencyKey: "k-real")
        }
        // Another till is not held up, and the scanned code always works.
        #expect(try await fixture.ayumi.redemptions.redeem(merchantID: "shop-2", code: issued.number, points: 1, idempotencyKey: "k-other").points == 1)
        fixture.clock.advance(seconds: 601)
        let next = try await fixture.ayumi.redemptions.issueCode(residentID: "r-1")
        #expect(try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: next.number, points: 1, idempotencyKey: "k-later").points == 1)
    }

    @Test("property: 30 unknown numbers sent at once from one till: at most 10 are looked up")
    func racingNumbers() async throws {
        let fixture = try await Fixture.make()
        let outcomes = await withTaskGroup(of: AyumiError?.self) { group in
            for index in 0..<30 {
                group.addTask {
                    let body = String(12_345_678_900 + UInt64(index))
                    do {
                        _ = try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: body + String(CodeNumberTestHelper.checkDigit(body)),
                                                                       points: 1, idempotencyKey: "g-\(index)")
                        return nil
                    } catch let error as AyumiError { return error } catch { return .busy }
                }
            }
            return await group.reduce(into: [AyumiError?]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == .codeNumberUnknown }.count == 10)
        #expect(outcomes.filter { if case .tooManyAttempts = $0 { true } else { false } }.count == 20)
    }

    @Test("keys rotate: new codes carry the new key, a code of the old key still redeems, and another process's rotation is picked up")
    func rotation() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        _ = try await fixture.submit([fixture.walk("w-1", "r-1", steps: 10_000)])
        let old = try await fixture.ayumi.redemptions.issueCode(residentID: "r-1").code
        // `ayumi keys rotate` beside the server: another process over the same database.
        let cli = try await fixture.store.openExisting(dataDirectory: fixture.directory, environment: fixture.ayumi.dependencies.environment,
                                                       logger: .init(label: "test"))
        #expect(try await cli.redemptions.rotateSigningKey().id == 2)
        let fromCLI = try await cli.redemptions.issueCode(residentID: "r-1").code
        // The server has not loaded key 2 yet: the code names it, so the server loads the keys and redeems.
        #expect(try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: fromCLI, points: 1, idempotencyKey: "k-1").points == 1)
        #expect(try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: old, points: 1, idempotencyKey: "k-2").points == 1)
        #expect(try await fixture.ayumi.redemptions.reloadSigningKeys() == false, "already loaded by the redemption above")
        #expect(fixture.ayumi.dependencies.signer.current.currentKeyID == 2)
        // A forged key number is still forged after the reload.
        var bytes = Base32.decode(fromCLI)!
        bytes[1] = 9
        await #expect(throws: AyumiError.codeForged) {
            try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: Base32.encode(bytes), points: 1, idempotencyKey: "k-3")
        }
    }

    @Test("a redemption moves points to the merchant, traced to sponsors first-to-expire-first")
    func redeem() async throws {
        let fixture = try await Fixture.make()
        let code = try await funded(fixture)
        let record = try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: code, points: 6, idempotencyKey: "k-1")
        #expect(record.points == 6)
        #expect(record.funding.reduce(0) { $0 + $1.points } == 6)
        #expect(Set(record.funding.map(\.sponsorID)) == ["health-office", "traders"])
        #expect(try await fixture.points("r-1") == 1)
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
    }

    @Test("the same idempotency key returns the first answer without a second debit")
    func idempotent() async throws {
        let fixture = try await Fixture.make()
        let code = try await funded(fixture)
        let first = try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: code, points: 3, idempotencyKey: "k-1")
        // While the code is valid: the same request answers the same; the key with another code,
        // other points or a forged code is refused, and nothing more is debited.
        #expect(try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: code, points: 3, idempotencyKey: "k-1") == first)
        let another = try await fixture.ayumi.redemptions.issueCode(residentID: "r-1").code
        var forged = Array(code)
        forged[forged.count / 2] = forged[forged.count / 2] == "A" ? "B" : "A"
        for (text, points) in [(another, Int64(3)), (code, 2), (String(forged), 3)] {
            await #expect(throws: AyumiError.idempotencyKeyReused) {
                try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: text, points: points, idempotencyKey: "k-1")
            }
        }
        #expect(try await fixture.points("r-1") == 4)
        fixture.clock.advance(seconds: 600) // a retry after the code expired still gets its answer
        let retry = try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: code, points: 3, idempotencyKey: "k-1")
        #expect(retry == first)
        #expect(try await fixture.points("r-1") == 4)
        await #expect(throws: AyumiError.idempotencyKeyReused) {
            try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: code, points: 4, idempotencyKey: "k-1")
        }
    }

    @Test("a code is single-use: a second redemption with it fails")
    func replay() async throws {
        let fixture = try await Fixture.make()
        let code = try await funded(fixture)
        _ = try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: code, points: 1, idempotencyKey: "k-1")
        await #expect(throws: AyumiError.codeAlreadyUsed) {
            try await fixture.ayumi.redemptions.redeem(merchantID: "shop-2", code: code, points: 1, idempotencyKey: "k-2")
        }
        #expect(try await fixture.points("r-1") == 6)
    }

    @Test("expired, forged and overdrawn codes fail and change nothing")
    func refusals() async throws {
        let fixture = try await Fixture.make()
        let code = try await funded(fixture)
        await #expect(throws: AyumiError.insufficientPoints(balance: 7, requested: 8)) {
            try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: code, points: 8, idempotencyKey: "k-1")
        }
        var forged = Array(code)
        forged[10] = forged[10] == "A" ? "B" : "A"
        await #expect(throws: AyumiError.codeForged) {
            try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: String(forged), points: 1, idempotencyKey: "k-2")
        }
        fixture.clock.advance(seconds: 120)
        await #expect(throws: AyumiError.codeExpired) {
            try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: code, points: 1, idempotencyKey: "k-3")
        }
        #expect(try await fixture.points("r-1") == 7)
    }

    @Test("points are not spendable after their last day")
    func expired() async throws {
        let fixture = try await Fixture.make()
        _ = try await funded(fixture) // 7 points, last day 2027-11-24
        fixture.clock.advance(seconds: 364 * 86_400)
        #expect(try await fixture.ayumi.accounts.balance(residentID: "r-1")
                == Balance(spendable: 7, pastExpiry: 0, expiring: [ExpiringPoints(lastDay: LocalDate("2027-11-24")!, points: 7)]))
        fixture.clock.advance(seconds: 86_400)
        // The balance says what the till will find: nothing to spend, 7 past their last day.
        #expect(try await fixture.ayumi.accounts.balance(residentID: "r-1") == Balance(spendable: 0, pastExpiry: 7))
        let code = try await fixture.ayumi.redemptions.issueCode(residentID: "r-1").code
        await #expect(throws: AyumiError.insufficientPoints(balance: 0, requested: 1)) {
            try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: code, points: 1, idempotencyKey: "k-1")
        }
    }

    @Test("two spends racing against one balance: exactly one succeeds")
    func doubleSpend() async throws {
        let fixture = try await Fixture.make()
        _ = try await funded(fixture) // 7 points
        let codes = [try await fixture.ayumi.redemptions.issueCode(residentID: "r-1").code,
                     try await fixture.ayumi.redemptions.issueCode(residentID: "r-1").code]
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for (index, code) in codes.enumerated() {
                group.addTask {
                    (try? await fixture.ayumi.redemptions.redeem(merchantID: "shop-\(index + 1)", code: code, points: 5, idempotencyKey: "k-\(index)")) != nil
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 1)
        #expect(try await fixture.points("r-1") == 2)
    }

    @Test("ledger invariants hold after a random sequence of awards and redemptions", arguments: [UInt64(1), 2, 3])
    func randomized(seed: UInt64) async throws {
        let fixture = try await Fixture.make()
        var random = SplitMix64(seed: seed)
        let residents = (0..<8).map { "r-\($0)" }
        for id in residents { try await fixture.enrol(id) }
        var redeemed: Int64 = 0
        for round in 0..<30 {
            let events = (0..<20).map { index -> Event in
                let resident = residents[Int(random.next() % 8)]
                switch random.next() % 3 {
                case 0: return fixture.walk("e-\(round)-\(index)", resident, steps: Int64(random.next() % 15_000))
                case 1: return fixture.tap("e-\(round)-\(index)", resident, minutesAgo: Double(random.next() % 600))
                default: return fixture.visit("e-\(round)-\(index)", resident)
                }
            }
            _ = try await fixture.submit(events)
            let resident = residents[Int(random.next() % 8)]
            let code = try await fixture.ayumi.redemptions.issueCode(residentID: resident).code
            let points = Int64(random.next() % 6) + 1
            if let record = try? await fixture.ayumi.redemptions.redeem(merchantID: "shop-\(random.next() % 9 + 1)", code: code, points: points,
                                                            idempotencyKey: "k-\(round)") {
                redeemed += record.points
            }
            if round % 10 == 9 { fixture.clock.advance(seconds: 86_400) }
        }
        let audit = try await fixture.ayumi.reporting.verifyLedger()
        #expect(audit.violations.isEmpty, "\(audit.violations)")
        #expect(redeemed > 0)
        var redeemedInHistories: Int64 = 0
        let dailyPointsMax = ["walk-bands": Int64(5), "metro-ride": 4, "centre-visit": 2]
        for id in residents {
            let balance = try await fixture.ayumi.accounts.balance(residentID: id).spendable
            #expect(balance >= 0)
            var history: [HistoryLine] = []
            var cursor: String?
            repeat {
                let (page, next) = try await fixture.ayumi.accounts.history(residentID: id, cursor: cursor, limit: 7)
                history += page
                cursor = next
            } while cursor != nil
            #expect(history.reduce(0) { $0 + $1.points } == balance)
            #expect(Set(history.map(\.id)).count == history.count, "pages neither overlap nor repeat")
            // The caps are laws: no rule ever grants more in a day than its daily maximum.
            let perRuleAndDay = Dictionary(grouping: history.filter { $0.kind == .award }) { "\($0.ruleID!) \($0.localDate)" }
            for (key, entries) in perRuleAndDay {
                let rule = String(key.split(separator: " ")[0])
                #expect(entries.reduce(0) { $0 + $1.points } <= dailyPointsMax[rule]!, "\(id) \(key)")
            }
            redeemedInHistories -= history.filter { $0.kind == .redemption }.reduce(0) { $0 + $1.points }
        }
        #expect(redeemedInHistories == redeemed, "every accepted redemption, and only those, debited a resident")
    }
}

@Suite("Beneficiary report over the ledger")
struct ReportTests {
    /// `walkers` residents walk 4,000 steps (2 points each), the first `riders` of them ride once
    /// (1 point, split between the city and the operator), the first `visitors` visit the centre
    /// (2 points, the shopping street), and the first `spenders` spend 2 points: the first two at
    /// shop-3, the others at shop-1.
    func city(walkers: Int = 24, riders: Int = 12, visitors: Int = 3, spenders: Int = 13) async throws -> Fixture {
        let fixture = try await Fixture.make()
        for index in 0..<walkers {
            try await fixture.enrol("r-\(index)")
            var events = [fixture.walk("w-\(index)", "r-\(index)", steps: 4_000)]
            if index < riders { events.append(fixture.tap("t-\(index)", "r-\(index)")) }
            _ = try await fixture.submit(events)
        }
        _ = try await fixture.submit((0..<visitors).map { fixture.visit("v-\($0)", "r-\($0)") })
        for index in 0..<spenders {
            let code = try await fixture.ayumi.redemptions.issueCode(residentID: "r-\(index)").code
            _ = try await fixture.ayumi.redemptions.redeem(merchantID: index < 2 ? "shop-3" : "shop-1", code: code, points: 2, idempotencyKey: "k-\(index)")
        }
        return fixture
    }

    @Test("rows come from the ledger: figures of 10 or more residents are shown, smaller ones only as a combined row")
    func report() async throws {
        let fixture = try await city()
        let report = try await fixture.ayumi.reporting.beneficiaryReport(from: fixture.today, to: fixture.today)
        let lines = report.csv(language: .en).split(separator: "\r\n").map(String.init)
        #expect(lines[0] == "\u{FEFF}section,id,name,points_awarded,yen_awarded,residents_awarded,points_redeemed,yen_redeemed,residents_redeemed,points_expired,yen_expired,residents_expired")
        #expect(lines[1] == "program,all,Test Points (fixture city),66,66,24,26,26,13,0,0,0")
        // The visits (3 residents) are suppressed, the rides (12) with them as their complement, the
        // sponsors of both with them (a sponsor less the rules shown would give a share back), and
        // the walks with those sponsors: the awards show only as the combined row. Every hidden
        // count reads X: which hidden figure is the small one would also give it back.
        #expect(lines.contains("rule,walk-bands,Walking,X,X,X,26,26,13,0,0,0"))
        #expect(lines.contains("rule,centre-visit,Centre visit,X,X,X,0,0,0,0,0,0"))
        #expect(lines.contains("rule,metro-ride,Public transport ride,X,X,X,0,0,0,0,0,0"))
        #expect(lines.contains("rule,*,Suppressed groups combined (under 10 residents),66,66,24,0,0,0,0,0,0"))
        #expect(lines.contains("sponsor,health-office,Test City Health Office,X,X,X,26,26,13,0,0,0"))
        #expect(lines.contains("sponsor,traders,Centre Traders Association,X,X,X,0,0,0,0,0,0"))
        #expect(lines.contains("sponsor,*,Suppressed groups combined (under 10 residents),66,66,24,0,0,0,0,0,0"))
        // Redemptions are traced to the rule and sponsor that funded each point: the walks' lots,
        // the city's, were drawn first; 2 residents at shop-3 hide shop-1 (11) with them.
        #expect(lines.contains("merchant,shop-1,Corner Bakery,,,,X,X,X,,,"))
        #expect(lines.contains("merchant,shop-3,Cafe Hinata,,,,X,X,X,,,"))
        #expect(lines.contains("merchant,*,Suppressed groups combined (under 10 residents),,,,26,26,13,,,"))
        #expect(lines.contains("merchant,shop-2,Station Greengrocer,,,,0,0,0,,,"))
        #expect(report.csv(language: .ja).hasPrefix("\u{FEFF}区分,ID,名称,付与ポイント,付与額（円）,付与対象住民数,利用ポイント"))
        let again = try await fixture.ayumi.reporting.beneficiaryReport(from: fixture.today, to: fixture.today)
        #expect(again.csv(language: .en) == report.csv(language: .en))
        #expect(again.json() == report.json())
    }

    @Test("a yen figure beyond 64 bits is an error, never a crash")
    func overflow() async throws {
        let cell = BeneficiaryFacts.Cell(points: Int64.max / 2, residents: 20)
        let facts = BeneficiaryFacts(totals: [.awarded: cell, .redeemed: .zero], cells: [.awarded: [.rule: ["walk-bands": cell]]],
                                     links: [:])
        await #expect(throws: BeneficiaryReport.ReportError.overflow) {
            try await BeneficiaryReport.make(facts: facts, listed: [:], pastNames: [:], programName: LocalizedText(ja: "", en: ""),
                                             rulesetVersion: "v", yenPerPoint: 1_000, groupSizeMin: 10, from: LocalDate("2026-11-01")!,
                                             to: LocalDate("2026-11-30")!) { _, _, _ in 20 }
        }
    }

    @Test("a city whose every group is large shows every award figure")
    func largeGroups() async throws {
        let fixture = try await city(walkers: 40, riders: 30, visitors: 12, spenders: 0)
        let lines = try await fixture.ayumi.reporting.beneficiaryReport(from: fixture.today, to: fixture.today).csv(language: .en)
            .split(separator: "\r\n").map(String.init)
        #expect(lines.contains("rule,walk-bands,Walking,80,80,40,0,0,0,0,0,0"))
        #expect(lines.contains("rule,metro-ride,Public transport ride,30,30,30,0,0,0,0,0,0"))
        #expect(lines.contains("rule,centre-visit,Centre visit,24,24,12,0,0,0,0,0,0"))
        #expect(lines.contains("sponsor,traders,Centre Traders Association,24,24,12,0,0,0,0,0,0"))
        #expect(!lines.contains { $0.contains(",*,") })
    }

    static let cities: [(walkers: Int, riders: Int, visitors: Int, spenders: Int)] = [
        (24, 12, 3, 13), (24, 3, 12, 13), (30, 15, 11, 30), (12, 12, 12, 3),
    ]

    @Test("no suppressed figure can be recovered: not by subtraction within a section, not from counts, not across sections",
          arguments: cities)
    func noRecovery(walkers: Int, riders: Int, visitors: Int, spenders: Int) async throws {
        let fixture = try await city(walkers: walkers, riders: riders, visitors: visitors, spenders: spenders)
        let report = try await fixture.ayumi.reporting.beneficiaryReport(from: fixture.today, to: fixture.today)
        let reports = fixture.ayumi.dependencies.reports
        let facts = try await reports.beneficiaryFacts(from: fixture.today, to: fixture.today)
        let program = try #require(report.rows.first)
        for measure in BeneficiaryFacts.Measure.allCases {
            for row in report.rows {
                guard let figures = row.figures(measure) else { continue }
                // A number is printed only for 10 or more residents (or none) ...
                if let points = figures.points, points > 0 {
                    #expect((figures.residents ?? 0) >= 10, "\(row.kind) \(row.id) \(measure) shown for a small group")
                }
                // ... and a suppressed figure shows no count to multiply by a rule's fixed points.
                if figures.points == nil { #expect(figures.residents == nil, "\(row.kind) \(row.id) \(measure) shows its count") }
            }
            guard let total = program.figures(measure)?.points else { continue }
            for kind in [BeneficiaryReport.Row.Kind.sponsor, .rule, .merchant] {
                let rows = report.rows.filter { $0.kind == kind && $0.figures(measure) != nil }
                guard !rows.isEmpty else { continue }
                let shown = rows.filter { $0.id != BeneficiaryReport.suppressedRowID }.compactMap { $0.figures(measure)?.points }
                let combined = rows.first { $0.id == BeneficiaryReport.suppressedRowID }?.figures(measure)?.points ?? 0
                #expect(shown.reduce(0, +) + combined == total, "\(kind) \(measure) adds up")
                // Subtracting every figure shown from the total leaves the sum of the suppressed ones:
                // it must be a sum of two or more, never one figure.
                let hidden = rows.filter { $0.id != BeneficiaryReport.suppressedRowID && $0.figures(measure)?.points == nil }
                #expect(hidden.isEmpty || hidden.count >= 2, "\(kind) \(measure): a lone suppressed figure is the total less the rest")
            }
            // Across sections: solve every linear relation the report and the public rules give
            // (each rule is the sum of its sponsors' shares, each sponsor the sum of its shares of the
            // rules it funds, each section's hidden figures sum to its `*` row) and ask whether any
            // hidden figure is determined by them.
            for determined in RecoveryAttack(report: report, measure: measure, links: facts.links[measure] ?? []).determinedFigures() {
                Issue.record("\(determined) \(measure) is determined by the rest of the report")
            }
        }
    }

    @Test("the attack finds what a naive suppression would leak", arguments: cities)
    func attackWorks(walkers: Int, riders: Int, visitors: Int, spenders: Int) async throws {
        let fixture = try await city(walkers: walkers, riders: riders, visitors: visitors, spenders: spenders)
        var report = try await fixture.ayumi.reporting.beneficiaryReport(from: fixture.today, to: fixture.today)
        let facts = try await fixture.ayumi.dependencies.reports.beneficiaryFacts(from: fixture.today, to: fixture.today)
        // Show one hidden rule figure beside its hidden siblings' sum: then the last hidden rule follows.
        let hiddenRules = report.rows.indices.filter { report.rows[$0].kind == .rule && report.rows[$0].id != "*"
            && report.rows[$0].awarded?.points == nil }
        try #require(hiddenRules.count >= 2)
        let revealed = report.rows[hiddenRules[0]].id
        report.rows[hiddenRules[0]].awarded?.points = facts.cells[.awarded]?[.rule]?[revealed]?.points
        let found = RecoveryAttack(report: report, measure: .awarded, links: facts.links[.awarded] ?? []).determinedFigures()
        #expect(!found.isEmpty, "one hidden figure less makes another one determined")
    }

    @Test("a report with fewer than 10 residents in all shows no figure at all")
    func tiny() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        _ = try await fixture.submit([fixture.walk("w-1", "r-1", steps: 8_000)])
        let csv = try await fixture.ayumi.reporting.beneficiaryReport(from: fixture.today, to: fixture.today).csv(language: .en)
        #expect(csv.contains("program,all,Test Points (fixture city),X,X,X,0,0,0,0,0,0\r\n"))
        #expect(csv.contains("rule,walk-bands,Walking,X,X,X,0,0,0,0,0,0\r\n"))
        #expect(csv.contains("sponsor,health-office,Test City Health Office,X,X,X,0,0,0,0,0,0\r\n"))
        #expect(!csv.contains(",4,"))
    }

    @Test("rules and sponsors that left the program still report their past awards, under their old names")
    func pastRules() async throws {
        let fixture = try await city(walkers: 40, riders: 30, visitors: 12, spenders: 0)
        let rules = FileManager.default.temporaryDirectory.appendingPathComponent("ayumi-rules-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: rules, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: Fixture.rulesDirectory) where name != "walk.yaml" {
            try FileManager.default.copyItem(atPath: Fixture.rulesDirectory + "/" + name, toPath: rules + "/" + name)
        }
        let restarted = try await fixture.store.open(dataDirectory: fixture.directory, rulesDirectory: rules,
                                             merchantsFile: Fixture.merchantsFile,
                                             environment: fixture.ayumi.dependencies.environment, logger: .init(label: "test"))
        #expect(!restarted.dependencies.program.current.ruleset.rules.contains { $0.id == "walk-bands" })
        let csv = try await restarted.reporting.beneficiaryReport(from: fixture.today, to: fixture.today).csv(language: .ja)
        #expect(csv.contains("付与ルール,walk-bands,ウォーキング,80,80,40,0,0,0"))
        #expect(csv.contains("事業全体,all,テストポイント（試験市）,134,134,40,0,0,0"))
    }
}

@Suite("Largest allowed values")
struct LargestValuesTests {
    /// 29 more sponsors, so that a rule is funded by the most allowed (32).
    let extraSponsors = (1...29).map { "  - id: s-\($0)\n    kind: government\n    name: {ja: 負担者\($0), en: Sponsor \($0)}\n" }.joined()

    /// The tests' program with every number in Rules/ at its upper bound (but the report's group size).
    func largestRules() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ayumi-largest-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let replacements: [String: [(String, String)]] = [
            "program.yaml": [("yenPerPoint: 1", "yenPerPoint: 1_000"), ("pointExpiryMonths: 12", "pointExpiryMonths: 120"),
                             ("stepsPerDayMax: 100_000", "stepsPerDayMax: 1_000_000"), ("eventAgeDaysMax: 31", "eventAgeDaysMax: 366"),
                             ("redemptionCodeTTLSeconds: 120", "redemptionCodeTTLSeconds: 3_600"), ("reportGroupSizeMin: 10", "reportGroupSizeMin: 2")],
            // The group size minimum stays small so that the report prints (and multiplies) its yen.
            "sponsors.yaml": [("sponsors:\n", "sponsors:\n" + extraSponsors)],
            "walk.yaml": [("steps: {min: 2_000}", "steps: {min: 1_000_000}"),
                          ("per: {steps: 2_000, points: 1, round: down}", "per: {steps: 100, points: 10_000, round: down}"),
                          ("{per: day, points: 5}", "{per: day, points: 100_000}"),
                          // Integer weights (the older form of funding) reach further than percentages.
                          ("health-office: 100%", (["health-office: 1_000_000", "metro-company: 1_000_000", "traders: 999_999"]
                                                 + (1...29).map { "s-\($0): 1_000_000" }).joined(separator: "\n  "))],
            "transit.yaml": [("fixed: 1", "fixed: 10_000"), ("{per: day, count: 4}", "{per: day, count: 1_000_000_000}"),
                             ("health-office: 50%\n  metro-company: 50%", "health-office: 1_000_000\n  metro-company: 1_000_000")],
            "centre-visit.yaml": [("fixed: 2", "fixed: 10_000"), ("{per: day, count: 1}", "{per: day, count: 1_000_000_000}"),
                                    ("traders: 100%", "traders: 1_000_000")],
        ]
        try FileManager.default.copyItem(atPath: Fixture.rulesDirectory + "/calendar", toPath: directory + "/calendar")
        for name in try FileManager.default.contentsOfDirectory(atPath: Fixture.rulesDirectory) where name != "calendar" {
            var text = try String(contentsOfFile: Fixture.rulesDirectory + "/" + name, encoding: .utf8)
            for (original, replacement) in replacements[name] ?? [] {
                #expect(text.contains(original), "\(name): \(original)")
                text = text.replacingOccurrences(of: original, with: replacement)
            }
            try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        return directory
    }

    @Test("a program with every number at its bound loads, awards, redeems, reports and verifies without overflow")
    func largest() async throws {
        let fixture = try await Fixture.make(rulesDirectory: try largestRules())
        #expect(fixture.ayumi.dependencies.program.current.ruleset.rules.first { $0.id == "walk-bands" }?.funding.count == Bounds.sponsorsPerRuleMax)
        try await fixture.enrol("r-1")
        try await fixture.enrol("r-2")
        fixture.clock.advance(seconds: 12 * 86_400)
        let walks = (0..<11).map { fixture.walk("w-\($0)", "r-1", steps: 1_000_000, on: fixture.today.adding(days: -$0)) }
        let taps = (0..<20).map { fixture.tap("t-\($0)", "r-1", minutesAgo: Double($0)) }
        let results = try await fixture.submit(walks + taps + [fixture.visit("v-1", "r-1"), fixture.walk("w-r2", "r-2", steps: 1_000_000)])
        #expect(results.allSatisfy { $0.status == .accepted })
        let perWalk = results[0].awards.map(\.points)
        #expect(perWalk == [100_000])
        #expect(results[0].awards[0].funding.count == Bounds.sponsorsPerRuleMax)
        #expect(results[0].awards[0].funding.map(\.points).reduce(0, +) == 100_000)
        let total: Int64 = 11 * 100_000 + 20 * 10_000 + 10_000
        #expect(try await fixture.points("r-1") == total)

        let code = try await fixture.ayumi.redemptions.issueCode(residentID: "r-1").code
        let record = try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: code, points: Redemptions.redemptionPointsMax, idempotencyKey: "k-1")
        #expect(record.funding.map(\.points).reduce(0, +) == 1_000_000)
        #expect(try await fixture.points("r-1") == total - 1_000_000)
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)

        // Two residents reach the group size of 2: the program row prints its yen at 1,000 a point.
        let report = try await fixture.ayumi.reporting.beneficiaryReport(from: fixture.today.adding(days: -20), to: fixture.today)
        #expect(report.rows[0].awarded == BeneficiaryReport.Figures(points: total + 100_000, yen: (total + 100_000) * 1_000, residents: 2))
        #expect(report.rows[0].redeemed?.points == nil, "one resident redeemed: suppressed")
    }
}

/// An attacker with one report and the public rules: which hidden figures do the report's linear
/// relations determine? Unknowns are the hidden figures of each section and every (rule, sponsor)
/// share; a figure is determined when its unit vector lies in the row space of the relations.
struct RecoveryAttack {
    let report: BeneficiaryReport
    let measure: BeneficiaryFacts.Measure
    let links: Set<BeneficiaryFacts.Link>

    func determinedFigures() -> [String] {
        var variables: [String: Int] = [:]
        func variable(_ name: String) -> Int {
            if let index = variables[name] { return index }
            variables[name] = variables.count
            return variables.count - 1
        }
        var equations: [([Int: Double], Double)] = []
        let rows = report.rows.filter { $0.figures(measure) != nil && $0.kind != .program }
        let hidden = rows.filter { $0.id != BeneficiaryReport.suppressedRowID && $0.figures(measure)?.points == nil }
        for row in hidden { _ = variable("\(row.kind):\(row.id)") }
        func side(_ row: BeneficiaryReport.Row) -> (Int?, Double) {
            if let points = row.figures(measure)?.points { return (nil, Double(points)) }
            return (variable("\(row.kind):\(row.id)"), 0)
        }
        // Each section's hidden figures sum to its `*` row.
        for kind in [BeneficiaryReport.Row.Kind.rule, .sponsor, .merchant] {
            let combined = rows.first { $0.kind == kind && $0.id == BeneficiaryReport.suppressedRowID }?.figures(measure)?.points
            let members = hidden.filter { $0.kind == kind }
            guard let combined, !members.isEmpty else { continue }
            equations.append((Dictionary(uniqueKeysWithValues: members.map { (variable("\(kind):\($0.id)"), 1.0) }), Double(combined)))
        }
        // Each rule and each sponsor is the sum of its shares.
        for kind in [BeneficiaryReport.Row.Kind.rule, .sponsor] {
            for row in rows where row.kind == kind && row.id != BeneficiaryReport.suppressedRowID {
                let shares = links.filter { (kind == .rule ? $0.rule : $0.sponsor) == row.id }
                var coefficients = Dictionary(uniqueKeysWithValues: shares.map { (variable("share:\($0.rule)/\($0.sponsor)"), 1.0) })
                let (unknown, known) = side(row)
                if let unknown { coefficients[unknown, default: 0] -= 1 }
                equations.append((coefficients, known))
            }
        }
        let width = variables.count
        let matrix = equations.map { equation in (0..<width).map { equation.0[$0] ?? 0 } }
        let base = rank(matrix)
        return hidden.map { "\($0.kind):\($0.id)" }.filter { name in
            var unit = [Double](repeating: 0, count: width)
            unit[variables[name]!] = 1
            return rank(matrix + [unit]) == base
        }
    }

    func rank(_ rows: [[Double]]) -> Int {
        var matrix = rows
        var rank = 0
        let columns = matrix.first?.count ?? 0
        for column in 0..<columns where rank < matrix.count {
            guard let pivot = (rank..<matrix.count).max(by: { abs(matrix[$0][column]) < abs(matrix[$1][column]) }),
                  abs(matrix[pivot][column]) > 1e-9 else { continue }
            matrix.swapAt(rank, pivot)
            for other in 0..<matrix.count where other != rank {
                let factor = matrix[other][column] / matrix[rank][column]
                if factor != 0 { for index in column..<columns { matrix[other][index] -= factor * matrix[rank][index] } }
            }
            rank += 1
        }
        return rank
    }
}

@Suite("Backtest")
struct BacktestTests {
    /// 12 residents walk 12,000 steps (6 points, capped at 5) and ride twice; 12 more ride once.
    /// r-0 was born in 2000, everyone else in 1950.
    func month() async throws -> Fixture {
        let fixture = try await Fixture.make()
        for index in 0..<24 {
            _ = try await fixture.enrol("r-\(index)", birthYear: index == 0 ? 2000 : 1950)
            var events = [fixture.tap("t-\(index)-a", "r-\(index)", minutesAgo: 90)]
            if index < 12 {
                events += [fixture.walk("w-\(index)", "r-\(index)", steps: 12_000),
                           fixture.tap("t-\(index)-b", "r-\(index)", minutesAgo: 30)]
            }
            _ = try await fixture.submit(events)
        }
        return fixture
    }

    func candidate(_ edit: (String) -> String) throws -> Ruleset {
        var files = [String: String]()
        let directory = Fixture.rulesDirectory
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name != "calendar" {
            files[name] = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
        }
        files["walk.yaml"] = edit(files["walk.yaml"]!)
        return try RulesParser.parse(files: files)
    }

    @Test("the rules in force, replayed, give exactly what the ledger paid")
    func sameRules() async throws {
        let fixture = try await month()
        let report = try await fixture.ayumi.reporting.backtest(fixture.ayumi.dependencies.program.current.ruleset,
                                                                from: fixture.today.adding(days: -30), to: fixture.today)
        #expect(report.events == 48)
        #expect(report.actual.points == 12 * 5 + 36)
        for row in report.rows(.en) { #expect(row.actual == row.candidate, "\(row.section): \(row.key)") }
        #expect(report.actual.cappedAwards == 12)
        // Taps funded 50/50: 36 one-point taps, 18 for each sponsor, in the ledger and in the replay.
        #expect(report.candidate.pointsBySponsor == ["health-office": 12 * 5 + 18, "metro-company": 18])
    }

    @Test("a lower daily walking limit shows what it would have saved, per sponsor, without touching the ledger")
    func lowerCap() async throws {
        let fixture = try await month()
        let before = try await fixture.points("r-0")
        let report = try await fixture.ayumi.reporting.backtest(try candidate { $0.replacingOccurrences(of: "{per: day, points: 5}", with: "{per: day, points: 3}") },
                                                                from: fixture.today.adding(days: -30), to: fixture.today)
        #expect(report.actual.points == 96)
        #expect(report.candidate.points == 72)
        #expect(report.candidate.pointsBySponsor["health-office"] == Int64(12 * 3 + 18))
        let csv = report.csv(.en)
        #expect(csv.hasPrefix("section,key,actual,candidate,change\r\n"))
        #expect(csv.contains("\r\ntotal,points,96,72,-24\r\n"))
        #expect(csv.contains("\r\ntotal,awards capped,12,12,0\r\n"))
        #expect(csv.contains("\r\npoints per resident,max,7,5,-2\r\n"))
        // 24 residents of one district are shown; the candidate changes nobody's reach.
        #expect(csv.contains("\r\nresidents reached by district,14101,24,24,0\r\n"))
        // Each sponsor's burn per day: the city pays 24 fewer points today, the operator the same.
        #expect(csv.contains("\r\nsponsor points per day (budget burn),health-office \(fixture.today),78,54,-24\r\n"))
        #expect(csv.contains("\r\nsponsor points per day (budget burn),metro-company \(fixture.today),18,18,0\r\n"))
        #expect(report.table(.ja).contains("合計: ポイント"))
        #expect(try await fixture.points("r-0") == before)
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
    }

    /// 60 residents of three districts, born 1940-2005, over 30 days from 2026-11-25: most walk
    /// (0-16,000 steps), some ride (0-3 taps), a few visit the centre; all drawn from one seed.
    func generatedMonth() async throws -> Fixture {
        let fixture = try await Fixture.make()
        var random = SplitMix64(seed: 2_026_11)
        for index in 0..<60 {
            _ = try await fixture.ayumi.residents.enrol(residentID: "r-\(index)", birthYear: 1940 + Int(random.next() % 66),
                                                             district: ["14101", "14102", "14103"][index % 3])
        }
        for day in 0..<30 {
            var events: [Event] = []
            for index in 0..<60 {
                if random.next() % 5 != 0 { events.append(fixture.walk("w-\(day)-\(index)", "r-\(index)", steps: Int64(random.next() % 16_000))) }
                for tap in 0..<Int(random.next() % 4) { events.append(fixture.tap("t-\(day)-\(index)-\(tap)", "r-\(index)", minutesAgo: Double(30 + 60 * tap))) }
                if random.next() % 6 == 0 { events.append(fixture.visit("v-\(day)-\(index)", "r-\(index)")) }
            }
            _ = try await fixture.submit(events)
            fixture.clock.advance(seconds: 86_400)
        }
        return fixture
    }

    @Test("the beneficiary report as XLSX: openpyxl reads every sheet back, numbers as numbers, X where suppressed, header frozen; byte-identical twice")
    func beneficiaryWorkbook() async throws {
        let fixture = try await generatedMonth()
        let from = LocalDate("2026-11-25")!, to = LocalDate("2026-12-24")!
        let report = try await fixture.ayumi.reporting.beneficiaryReport(from: from, to: to)
        let data = try report.xlsx(language: .en)
        #expect(try await fixture.ayumi.reporting.beneficiaryReport(from: from, to: to).xlsx(language: .en) == data, "reproducible")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ayumi-\(UUID().uuidString).xlsx")
        try data.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = """
            import json, sys, openpyxl
            book = openpyxl.load_workbook(sys.argv[1])
            print(json.dumps({sheet.title: {"frozen": sheet.freeze_panes, "rows": [list(row) for row in sheet.iter_rows(values_only=True)]}
                              for sheet in book.worksheets}))
            """
        let (status, output) = try runProgram("/usr/bin/env", ["python3", "-c", script, file.path])
        #expect(status == 0)
        let sheets = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: [String: Any]])
        let ledgerSheets: Set = ["事業全体 program", "負担者 sponsor", "付与ルール rule", "加盟店 merchant"]
        #expect(Set(sheets.keys) == ledgerSheets.union(["住民（年齢区分×地区） residents", "主体別の便益 benefits", "負担者別の費用 sponsor-costs",
                                                        "運営費 operating-costs", "費用分担の提案 cost-sharing", "歩数の推移 steps-trend",
                                                        "前提と出典 assumptions"]))
        for (title, sheet) in sheets {
            #expect(sheet["frozen"] as? String == "A2", "\(title)")
            let rows = sheet["rows"] as! [[Any]]
            if ledgerSheets.contains(title) {
                #expect(rows[0][0] as? String == "ID / id" && rows[0][2] as? String == "付与ポイント / points_awarded")
            }
        }
        // The benefit figures as numbers: each party's row reads back as the report has it.
        let benefits = try #require(report.benefits)
        let figureRows = (sheets["主体別の便益 benefits"]!["rows"] as! [[Any]]).dropFirst()
        #expect(figureRows.count == benefits.parties.reduce(0) { $0 + $1.figures.count })
        for (line, (party, figure)) in zip(figureRows, benefits.parties.flatMap { section in section.figures.map { (section.party, $0) } }) {
            #expect(line[0] as? String == party.rawValue && line[2] as? String == figure.id)
            if let value = figure.value { #expect((line[4] as? NSNumber)?.int64Value == value, "\(figure.id)") } else { #expect(line[4] as? String == "X") }
        }
        // Every row of the report, cell for cell: figures as numbers, suppressed ones as X.
        let kinds: [BeneficiaryReport.Row.Kind: String] = [.program: "事業全体 program", .sponsor: "負担者 sponsor", .rule: "付与ルール rule",
                                                          .merchant: "加盟店 merchant"]
        for (kind, title) in kinds {
            let expected = report.rows.filter { $0.kind == kind }
            let rows = (sheets[title]!["rows"] as! [[Any]]).dropFirst()
            #expect(rows.count == expected.count, "\(title)")
            for (row, line) in zip(expected, rows) {
                #expect(line[0] as? String == row.id)
                func same(_ value: Any, _ figure: Int64?) -> Bool {
                    if let figure { return (value as? NSNumber)?.int64Value == figure } else { return value as? String == "X" }
                }
                if let awarded = row.awarded { #expect(same(line[2], awarded.points) && same(line[4], awarded.residents), "\(row.id)") }
                if let redeemed = row.redeemed { #expect(same(line[5], redeemed.points) && same(line[6], redeemed.yen), "\(row.id)") }
            }
        }
        #expect(report.rows.contains { $0.awarded?.points != nil }, "some figures are shown, not only X")
    }

    /// The golden file is the report as it was reviewed; a change to the engine that changes any
    /// figure shows as a difference here. `AYUMI_UPDATE_GOLDEN=1` writes it anew (review the diff).
    @Test("golden: a generated month replayed through a candidate (lower walking limit, 30/70 rides, a December centre campaign, a rides budget)")
    func goldenMonth() async throws {
        let fixture = try await generatedMonth()
        let from = LocalDate("2026-11-25")!, to = LocalDate("2026-12-24")!
        // The rules in force reproduce the ledger in every figure over the month.
        let same = try await fixture.ayumi.reporting.backtest(fixture.ayumi.dependencies.program.current.ruleset, from: from, to: to)
        #expect(same.events > 3_000)
        for row in same.rows(.en) { #expect(row.actual == row.candidate, "\(row.section): \(row.key)") }
        let directory = try Fixture.rules(editing: [
            "walk.yaml": { $0.replacingOccurrences(of: "{per: day, points: 5}", with: "{per: day, points: 3}") },
            "transit.yaml": { $0.replacingOccurrences(of: "health-office: 50%\n  metro-company: 50%", with: "health-office: 30%\n  metro-company: 70%") },
            "campaigns.yaml": { _ in
                "campaigns:\n  - {id: december, name: {ja: 師走の商店街, en: December centre}, from: 2026-12-01, to: 2026-12-24, percent: 200, rules: [centre-visit]}\n"
            },
            "sponsors.yaml": { $0.replacingOccurrences(of: "  - id: metro-company\n", with: "  - id: metro-company\n    budgets: [{per: day, points: 60, onExhausted: scale}]\n") },
        ])
        let report = try await fixture.ayumi.reporting.backtest(try RulesParser.load(directory: directory), from: from, to: to)
        let csv = report.csv(.en)
        let path = Fixture.repositoryRoot + "/Tests/AyumiStoreTests/Fixtures/backtest-month.csv"
        if ProcessInfo.processInfo.environment["AYUMI_UPDATE_GOLDEN"] == "1" || !FileManager.default.fileExists(atPath: path) {
            try csv.write(toFile: path, atomically: true, encoding: .utf8)
            Issue.record("wrote \(path): review it and commit it")
            return
        }
        let golden = try String(contentsOfFile: path, encoding: .utf8)
        let differing = zip(golden.components(separatedBy: "\r\n"), csv.components(separatedBy: "\r\n")).filter { $0 != $1 }.prefix(5)
        #expect(csv == golden, "first differences (golden, now): \(Array(differing))")
    }

    @Test("figures drawn from fewer residents than the group size read X, and so does the one that would give them back")
    func suppression() async throws {
        let fixture = try await month()
        let ruleset = fixture.ayumi.dependencies.program.current.ruleset
        let csv = try await fixture.ayumi.reporting.backtest(ruleset, from: fixture.today, to: fixture.today).csv(.en)
        // One resident in their twenties: hidden, and the seventies with it (23 = 24 − 1 otherwise).
        #expect(csv.contains("\r\nresidents reached by age band,20-29,X,X,X\r\n"))
        #expect(csv.contains("\r\nresidents reached by age band,70-79,X,X,X\r\n"))
        #expect(csv.contains("\r\ntotal,residents reached,24,24,0\r\n"))

        // Four residents are fewer than ten: nothing of them is shown.
        let few = try await Fixture.make()
        for index in 0..<4 {
            try await few.enrol("r-\(index)")
            _ = try await few.submit([few.walk("w-\(index)", "r-\(index)", steps: 8_000)])
        }
        let small = try await few.ayumi.reporting.backtest(ruleset, from: few.today, to: few.today)
        #expect(small.rows(.en).allSatisfy { $0.actual == nil && $0.candidate == nil })
        #expect(small.table(.en).contains("total: points"))
    }
}

@Suite("Budgets")
struct BudgetStoreTests {
    /// The tests' program with the health office's walking points limited to `budget`.
    func rules(_ budget: String) throws -> String {
        let directory = try Fixture.rules(editing: ["sponsors.yaml": { $0.replacingOccurrences(of: "  - id: health-office\n", with: "  - id: health-office\n    budgets: [\(budget)]\n") }])
        return directory
    }

    @Test("property: 40 residents walking at once never take a day's budget past its last point", arguments: ["scale", "stop"])
    func concurrent(policy: String) async throws {
        let fixture = try await Fixture.make(rulesDirectory: try rules("{per: day, points: 30, onExhausted: \(policy)}"))
        for index in 0..<40 { try await fixture.enrol("r-\(index)") }
        let results = try await withThrowingTaskGroup(of: [IngestResult].self) { group in
            for index in 0..<40 {
                group.addTask { try await fixture.submit([fixture.walk("w-\(index)", "r-\(index)", steps: 8_000)]) }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let paid = results.flatMap(\.awards).reduce(0) { $0 + $1.points }
        // 4 points a walk: `scale` fills the budget to its last point, `stop` to the last whole walk.
        #expect(paid == (policy == "scale" ? 30 : 28))
        var total: Int64 = 0
        for index in 0..<40 { total += try await fixture.points("r-\(index)") }
        #expect(total == paid)
        let refused = results.filter { $0.awards.isEmpty }.compactMap(\.reason?.en)
        #expect(refused.allSatisfy { $0 == "No points: the budget of Test City Health Office (30 points a day) is spent" })
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
    }
}

@Suite("Rulesets in force over time")
struct TimelineTests {
    @Test("a late event is judged by the ruleset in force at its time; installing the same files again changes nothing")
    func lateEvent() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        let first = fixture.ayumi.dependencies.program.current.ruleset.version
        fixture.clock.advance(seconds: 2 * 86_400)
        // Two days later the walking limit drops from 5 to 3 a day.
        let directory = try Fixture.rules(editing: ["walk.yaml": { $0.replacingOccurrences(of: "{per: day, points: 5}", with: "{per: day, points: 3}") }])
        let lower = try RulesParser.load(directory: directory)
        let merchants = Array(fixture.ayumi.dependencies.program.current.merchants.values)
        try await fixture.ayumi.program.install(ruleset: lower, merchants: merchants)

        // Yesterday's walk, sent today, is judged by yesterday's rules; today's by today's.
        let late = try await fixture.submit([fixture.walk("w-late", "r-1", steps: 12_000, on: fixture.today.adding(days: -1))])
        #expect(late.first?.awards.map(\.points) == [5])
        #expect(late.first?.awards.first?.rulesetVersion == first)
        let now = try await fixture.submit([fixture.walk("w-now", "r-1", steps: 12_000)])
        #expect(now.first?.awards.map(\.points) == [3])
        #expect(now.first?.awards.first?.rulesetVersion == lower.version)

        let activations = try await fixture.ayumi.dependencies.store.activations()
        #expect(activations.map(\.ruleset.version) == [first, lower.version])
        #expect(activations.map(\.activatedBy) == ["Rules/", "Rules/"])
        try await fixture.ayumi.program.install(ruleset: lower, merchants: merchants)
        #expect(try await fixture.ayumi.dependencies.store.activations().count == 2)
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
    }

    @Test("a late event judged by an older ruleset still draws on the budgets in force now")
    func lateEventBudget() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        try await fixture.enrol("r-2")
        fixture.clock.advance(seconds: 2 * 86_400)
        let directory = try Fixture.rules(editing: ["sponsors.yaml": { $0.replacingOccurrences(of: "  - id: health-office\n", with: "  - id: health-office\n    budgets: [{per: month, points: 6, onExhausted: scale}]\n") }])
        try await fixture.install(rules: directory)
        // Yesterday's walk is judged by yesterday's rules (no budget), but the month's budget counts it.
        let late = try await fixture.submit([fixture.walk("w-late", "r-1", steps: 12_000, on: fixture.today.adding(days: -1))])
        #expect(late.first?.awards.map(\.points) == [5])
        let now = try await fixture.submit([fixture.walk("w-now", "r-2", steps: 12_000)])
        #expect(now.first?.awards.map(\.points) == [1])
        #expect(now.first?.awards.first?.reason.en.hasSuffix(" (reduced by the budget of Test City Health Office, 6 points a month)") == true)
        let third = try await fixture.submit([fixture.walk("w-more", "r-1", steps: 12_000)])
        #expect(third.first?.awards.isEmpty == true)
        #expect(third.first?.reason?.en == "No points: the budget of Test City Health Office (6 points a month) is spent")
    }

    @Test("a late event reduced by a budget its own ruleset did not have says so, in the answer and in history")
    func lateEventReducedByTodaysBudget() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        try await fixture.enrol("r-2")
        fixture.clock.advance(seconds: 2 * 86_400)
        let directory = try Fixture.rules(editing: ["sponsors.yaml": { $0.replacingOccurrences(of: "  - id: health-office\n", with: "  - id: health-office\n    budgets: [{per: month, points: 6, onExhausted: scale}]\n") }])
        try await fixture.install(rules: directory)
        #expect(try await fixture.submit([fixture.walk("w-now", "r-2", steps: 12_000)]).first?.awards.map(\.points) == [5])
        let late = try await fixture.submit([fixture.walk("w-late", "r-1", steps: 12_000, on: fixture.today.adding(days: -1))])
        #expect(late.first?.awards.map(\.points) == [1])
        #expect(late.first?.awards.first?.reason.en.hasSuffix(" (reduced by a sponsor's budget)") == true)
        let (lines, _) = try await fixture.ayumi.accounts.history(residentID: "r-1", cursor: nil, limit: 5)
        #expect(lines.first?.reason.en.hasSuffix(" (reduced by a sponsor's budget)") == true)
        #expect(lines.first?.reason.ja.hasSuffix("（負担者の予算により減額）") == true)
    }

    @Test("a ruleset activated for a later time judges events from that time, and becomes the program when its time comes")
    func scheduled() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        let first = fixture.ayumi.dependencies.program.current.ruleset.version
        var files: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: Fixture.rulesDirectory) where name != "calendar" {
            files[name] = try String(contentsOfFile: Fixture.rulesDirectory + "/" + name, encoding: .utf8)
        }
        files["walk.yaml"] = files["walk.yaml"]!.replacingOccurrences(of: "{per: day, points: 5}", with: "{per: day, points: 3}")
        let (version, _, _) = try await fixture.ayumi.program.validate(files: files)
        try await fixture.ayumi.program.activate(version: version, effectiveFrom: fixture.clock.now.addingTimeInterval(86_400),
                                                             by: Principal(role: .admin, subject: nil, tokenID: 1))
        #expect(fixture.ayumi.dependencies.program.current.ruleset.version == first)
        #expect(try await fixture.ayumi.program.reloadIfScheduled() == false)
        fixture.clock.advance(seconds: 86_400)
        #expect(try await fixture.ayumi.program.reloadIfScheduled() == true)
        #expect(fixture.ayumi.dependencies.program.current.ruleset.version == version)
        #expect(try await fixture.submit([fixture.walk("w-1", "r-1", steps: 12_000)]).first?.awards.map(\.points) == [3])
        #expect(try await fixture.ayumi.program.history().activations.last?.activatedBy == "admin token 1")
    }

    @Test("effectiveFrom in program.yaml schedules the files: from local midnight of that date, and not before")
    func effectiveFromInFiles() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        let first = fixture.ayumi.dependencies.program.current.ruleset.version
        let tomorrow = fixture.today.adding(days: 1)
        let directory = try Fixture.rules(editing: [
            "program.yaml": { $0 + "effectiveFrom: \(tomorrow)\n" },
            "walk.yaml": { $0.replacingOccurrences(of: "{per: day, points: 5}", with: "{per: day, points: 3}") },
        ])
        try await fixture.install(rules: directory)
        #expect(fixture.ayumi.dependencies.program.current.ruleset.version == first)
        let activation = try #require(try await fixture.ayumi.program.history().activations.last)
        #expect(activation.activatedBy == "Rules/")
        #expect(LocalDate(instant: activation.effectiveFrom, timeZone: TimeZone(identifier: "Asia/Tokyo")!) == tomorrow)
        #expect(LocalDate(instant: activation.effectiveFrom.addingTimeInterval(-1), timeZone: TimeZone(identifier: "Asia/Tokyo")!) == fixture.today)
        // Today's steps are still judged by the rules of today; tomorrow's by the new ones.
        #expect(try await fixture.submit([fixture.walk("w-1", "r-1", steps: 12_000)]).first?.awards.map(\.points) == [5])
        fixture.clock.advance(seconds: 86_400)
        #expect(try await fixture.ayumi.program.reloadIfScheduled() == true)
        #expect(fixture.ayumi.dependencies.program.current.ruleset.version == activation.ruleset.version)
        #expect(try await fixture.submit([fixture.walk("w-2", "r-1", steps: 12_000)]).first?.awards.map(\.points) == [3])
        // Loading the same files again schedules nothing new.
        try await fixture.install(rules: directory)
        #expect(try await fixture.ayumi.program.history().activations.count == 2)
    }

    @Test("how late an event may come is the program's now, whichever ruleset judges the event")
    func ageByTheProgramNow() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        fixture.clock.advance(seconds: 3 * 86_400)
        let directory = try Fixture.rules(editing: ["program.yaml": { $0.replacingOccurrences(of: "eventAgeDaysMax: 31", with: "eventAgeDaysMax: 1") }])
        try await fixture.install(rules: directory)
        // Two days old: the ruleset of its day allowed 31 days, the program now allows 1.
        let late = try await fixture.submit([fixture.walk("w-old", "r-1", steps: 8_000, on: fixture.today.adding(days: -2))])
        #expect(late.first?.status == .rejected)
        #expect(late.first?.reason?.en == "The activity is more than 1 day old")
        let yesterday = try await fixture.submit([fixture.walk("w-1", "r-1", steps: 8_000, on: fixture.today.adding(days: -1))])
        #expect(yesterday.first?.awards.map(\.points) == [4])
    }
}

@Suite("Pending points")
struct PendingTests {
    @Test("a rule's pendingDays holds its points: visible as pending, not spendable, then spendable from the release day")
    func pending() async throws {
        let directory = try Fixture.rules(editing: ["walk.yaml": { $0 + "pendingDays: 3\n" }])
        let fixture = try await Fixture.make(rulesDirectory: directory)
        try await fixture.enrol("r-1")
        _ = try await fixture.submit([fixture.walk("w-1", "r-1", steps: 8_000), fixture.tap("t-1", "r-1")])
        #expect(try await fixture.ayumi.accounts.balance(residentID: "r-1") == Balance(spendable: 1, pastExpiry: 0, pending: 4))
        let (lines, _) = try await fixture.ayumi.accounts.history(residentID: "r-1", cursor: nil, limit: 10)
        #expect(lines.map { $0.availableOn?.description } == [nil, fixture.today.adding(days: 3).description], "the tap, then the walk")
        let code = try await fixture.ayumi.redemptions.issueCode(residentID: "r-1").code
        await #expect(throws: AyumiError.insufficientPoints(balance: 1, requested: 2)) {
            try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: code, points: 2, idempotencyKey: "k-1")
        }
        fixture.clock.advance(seconds: 2 * 86_400)
        #expect(try await fixture.ayumi.accounts.balance(residentID: "r-1").pending == 4)
        fixture.clock.advance(seconds: 86_400)
        #expect(try await fixture.ayumi.accounts.balance(residentID: "r-1") == Balance(spendable: 5, pastExpiry: 0, pending: 0))
        let later = try await fixture.ayumi.redemptions.issueCode(residentID: "r-1").code
        #expect(try await fixture.ayumi.redemptions.redeem(merchantID: "shop-1", code: later, points: 5, idempotencyKey: "k-2").points == 5)
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
    }
}

@Suite("Prize draws")
struct DrawTests {
    @Test("a draw picks its winners reproducibly from a published seed, posts their prizes once, and refuses another seed")
    func draw() async throws {
        let day = try await Fixture.make().today
        let directory = try Fixture.rules(editing: ["draws.yaml": { _ in """
            draws:
              - id: autumn-draw
                name: {ja: 秋の抽選, en: autumn draw}
                from: \(day)
                to: \(day)
                pointsMin: 5
                conditions: {age: {min: 18}}
                prizes: 3
                prizePoints: 100
                sponsor: traders
            """ }])
        let fixture = try await Fixture.make(rulesDirectory: directory)
        for index in 0..<30 {
            try await fixture.enrol("r-\(index)", birthYear: index == 0 ? 2015 : 1960)
            _ = try await fixture.submit([fixture.walk("w-\(index)", "r-\(index)", steps: index < 20 ? 12_000 : 4_000)])
        }
        await #expect(throws: AyumiError.self) { try await fixture.ayumi.draws.run(id: "autumn-draw", seed: "lottery 4821") }
        fixture.clock.advance(seconds: 32 * 86_400)
        let (draw, record, rerun) = try await fixture.ayumi.draws.run(id: "autumn-draw", seed: "lottery 4821")
        #expect(!rerun)
        // r-1 … r-19 earned 5 points; r-0 too, but is under 18; r-20 … r-29 earned 2.
        #expect(record.eligible == 19)
        #expect(record.winners == draw.winners(eligible: (1..<20).map { "r-\($0)" }, seed: "lottery 4821"))
        #expect(record.winners.count == 3 && Set(record.winners).count == 3)
        for winner in record.winners { #expect(try await fixture.points(winner) == 105) }
        let (lines, _) = try await fixture.ayumi.accounts.history(residentID: record.winners[0], cursor: nil, limit: 5)
        #expect(lines.first?.reason.en == "Prize of the autumn draw")

        let again = try await fixture.ayumi.draws.run(id: "autumn-draw", seed: "lottery 4821")
        #expect(again.rerun && again.record == record)
        for winner in record.winners { #expect(try await fixture.points(winner) == 105) }
        await #expect(throws: AyumiError.self) { try await fixture.ayumi.draws.run(id: "autumn-draw", seed: "lottery 4822") }
        // Another seed would pick others: the seed, not the server, decides.
        #expect(draw.winners(eligible: (1..<20).map { "r-\($0)" }, seed: "lottery 4822") != record.winners)
        // A backtest over the days of the prizes compares what rules make: prizes are not among them.
        let backtest = try await fixture.ayumi.reporting.backtest(fixture.ayumi.dependencies.program.current.ruleset, from: day, to: fixture.today)
        #expect(backtest.actual.points == backtest.candidate.points)
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
    }
}

@Suite("Streaks through the store")
struct StreakStoreTests {
    @Test("three days in a row pay the streak on the third; a gap starts again, kept in the stored counter")
    func streak() async throws {
        let directory = try Fixture.rules(editing: ["streak.yaml": { _ in """
            id: streak
            trigger: streak
            name: {ja: 3日連続, en: Three days in a row}
            streak: {days: 3}
            conditions:
              steps: {min: 8_000}
            points: {fixed: 10}
            funding: {health-office: 100%}
            reason: {ja: "{date}まで3日連続", en: "Three days in a row to {date}"}
            """ }])
        let fixture = try await Fixture.make(rulesDirectory: directory)
        try await fixture.enrol("r-1")
        func streakPoints(_ id: String, steps: Int64 = 9_000) async throws -> Int64 {
            let result = try await fixture.submit([fixture.walk(id, "r-1", steps: steps)])
            return result.flatMap(\.awards).filter { $0.ruleID == "streak" }.reduce(0) { $0 + $1.points }
        }
        #expect(try await streakPoints("d1") == 0)
        #expect(try await streakPoints("d1-again", steps: 12_000) == 0, "the same day counts once")
        fixture.clock.advance(seconds: 86_400)
        #expect(try await streakPoints("d2") == 0)
        fixture.clock.advance(seconds: 86_400)
        #expect(try await streakPoints("d3") == 10)
        fixture.clock.advance(seconds: 2 * 86_400)
        #expect(try await streakPoints("d5") == 0)
        fixture.clock.advance(seconds: 86_400)
        #expect(try await streakPoints("d6") == 0)
        fixture.clock.advance(seconds: 86_400)
        #expect(try await streakPoints("d7") == 10)
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
    }
}

@Suite("Milestones through the store")
struct MilestoneStoreTests {
    @Test("a milestone pays every multiple passed, twice in one day and several in one report, and a backtest replays it")
    func milestones() async throws {
        let directory = try Fixture.rules(editing: ["steps.yaml": { _ in """
            id: steps
            trigger: milestone
            name: {ja: 歩数の節目, en: Steps milestone}
            milestone: {steps: 5_000}
            points: {fixed: 10}
            funding: {health-office: 100%}
            reason: {ja: "{date}", en: "{date}"}
            """ }])
        let fixture = try await Fixture.make(rulesDirectory: directory)
        try await fixture.enrol("r-1")
        try await fixture.enrol("r-2")
        func paid(_ results: [IngestResult]) -> [Int64] { results.map { $0.awards.filter { $0.ruleID == "steps" }.reduce(0) { $0 + $1.points } } }
        // One batch: 5,000 then 11,000 steps of the same day pass 5,000 and 10,000.
        #expect(paid(try await fixture.submit([fixture.walk("a", "r-1", steps: 5_000), fixture.walk("b", "r-1", steps: 11_000)])) == [10, 10])
        // A later report of the day passes 15,000; a smaller one counts nothing.
        #expect(paid(try await fixture.submit([fixture.walk("c", "r-1", steps: 15_000), fixture.walk("d", "r-1", steps: 9_000)])) == [10, 0])
        // One report passing four multiples pays four times.
        #expect(paid(try await fixture.submit([fixture.walk("e", "r-2", steps: 20_000)])) == [40])
        let report = try await fixture.ayumi.reporting.backtest(fixture.ayumi.dependencies.program.current.ruleset, from: fixture.today, to: fixture.today)
        // Two residents are too few to show figures; the tallies themselves must agree.
        #expect(report.candidate.points == report.actual.points && report.candidate.awards == report.actual.awards)
        #expect(report.actual.pointsBySponsor["health-office"] == Int64(70 + 10), "milestones 30 + 40, walks 5 + 5")
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
    }

    @Test("onExhausted: pend holds a walk today's budget cannot pay until tomorrow, paid from tomorrow's budget; never more than it")
    func pendedByBudget() async throws {
        let directory = try Fixture.rules(editing: ["sponsors.yaml": {
            $0.replacingOccurrences(of: "  - id: health-office\n", with: "  - id: health-office\n    budgets: [{per: day, points: 5, onExhausted: pend}]\n")
        }])
        let fixture = try await Fixture.make(rulesDirectory: directory)
        for resident in ["r-1", "r-2", "r-3"] { try await fixture.enrol(resident) }
        let results = try await fixture.submit([fixture.walk("w-1", "r-1", steps: 8_000), fixture.walk("w-2", "r-2", steps: 8_000),
                                                fixture.walk("w-3", "r-3", steps: 8_000)])
        #expect(results.map { $0.awards.map(\.points) } == [[4], [4], []], "today's 5 pays r-1; tomorrow's pays r-2; nothing is left for r-3")
        #expect(results.map { $0.awards.map { $0.availableOn?.description } } == [[nil], [fixture.today.adding(days: 1).description], []],
                "the answer says when held points can be spent")
        #expect(try await fixture.ayumi.accounts.balance(residentID: "r-2") == Balance(spendable: 0, pastExpiry: 0, pending: 4))
        let (lines, _) = try await fixture.ayumi.accounts.history(residentID: "r-2", cursor: nil, limit: 5)
        #expect(lines.map { $0.availableOn?.description } == [fixture.today.adding(days: 1).description])
        fixture.clock.advance(seconds: 86_400)
        #expect(try await fixture.ayumi.accounts.balance(residentID: "r-2") == Balance(spendable: 4, pastExpiry: 0, pending: 0))
        // The next day's budget has 1 point left (r-2's 4 drew on it): a walk of that day waits for the day after.
        let tomorrow = try await fixture.submit([fixture.walk("w-4", "r-1", steps: 8_000)])
        #expect(tomorrow.first?.awards.map(\.points) == [4], "tomorrow is full: pended to the day after")
        #expect(try await fixture.ayumi.accounts.balance(residentID: "r-1") == Balance(spendable: 4, pastExpiry: 0, pending: 4))
        #expect(try await fixture.ayumi.reporting.verifyLedger().violations.isEmpty)
    }
}

/// The Luhn check digit, written out again for the tests (the service's is internal).
enum CodeNumberTestHelper {
    static func checkDigit(_ body: String) -> Int {
        var sum = 0
        for (index, byte) in body.utf8.reversed().enumerated() {
            var digit = Int(byte - UInt8(ascii: "0"))
            if index % 2 == 0 { digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2 }
            sum += digit
        }
        return (10 - sum % 10) % 10
    }
}
