import AyumiCore
import AyumiServices
import AyumiStore
import AyumiTestSupport
import Foundation
import Testing

/// The use cases over the real SQLite store: what the HTTP API and the CLI both rely on.
@Suite("Ingest")
struct IngestTests {
    @Test("the same event id twice awards once, within a batch and across batches")
    func duplicates() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        let walk = fixture.walk("w-1", "r-1", steps: 8_000)
        let first = try await fixture.ayumi.ingest([walk, walk], by: Fixture.ingest)
        #expect(first.map(\.status) == [.accepted, .duplicate])
        let again = try await fixture.ayumi.ingest([walk], by: Fixture.ingest)
        #expect(again.map(\.status) == [.duplicate])
        #expect(again.first?.awards.isEmpty == true)
        #expect(try await fixture.ayumi.balance(residentID: "r-1") == 4)
    }

    @Test("a later walk for the same day with more steps awards only the difference")
    func walkDifference() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        _ = try await fixture.ayumi.ingest([fixture.walk("w-1", "r-1", steps: 4_100)], by: Fixture.ingest)
        let second = try await fixture.ayumi.ingest([fixture.walk("w-2", "r-1", steps: 9_000)], by: Fixture.ingest)
        #expect(second.first?.awards.map(\.points) == [2])
        let lower = try await fixture.ayumi.ingest([fixture.walk("w-3", "r-1", steps: 6_000)], by: Fixture.ingest)
        #expect(lower.first?.status == .accepted)
        #expect(lower.first?.awards.isEmpty == true)
        let more = try await fixture.ayumi.ingest([fixture.walk("w-4", "r-1", steps: 40_000)], by: Fixture.ingest)
        #expect(more.first?.awards.map(\.points) == [1])
        #expect(try await fixture.ayumi.balance(residentID: "r-1") == 5)
    }

    @Test("the daily transit cap holds inside one batch")
    func capInBatch() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        let taps = (0..<6).map { fixture.tap("t-\($0)", "r-1", minutesAgo: Double(60 - $0)) }
        let results = try await fixture.ayumi.ingest(taps, by: Fixture.ingest)
        #expect(results.map { $0.awards.reduce(0) { $0 + $1.points } } == [1, 1, 1, 1, 0, 0])
        #expect(results[5].reason?.en == "No points: today's limit for this activity is already reached")
        #expect(try await fixture.ayumi.balance(residentID: "r-1") == 4)
    }

    @Test("a rejected event changes nothing and its id can be sent again once corrected")
    func rejectedChangesNothing() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        let rejected = try await fixture.ayumi.ingest([fixture.walk("w-1", "r-1", steps: 2_000_000)], by: Fixture.ingest)
        #expect(rejected.first?.status == .rejected)
        #expect(try await fixture.ayumi.balance(residentID: "r-1") == 0)
        let unknown = try await fixture.ayumi.ingest([fixture.walk("w-2", "r-404", steps: 5_000)], by: Fixture.ingest)
        #expect(unknown.first?.status == .rejected)
        #expect(unknown.first?.reason?.en == "Unknown resident")
        let corrected = try await fixture.ayumi.ingest([fixture.walk("w-1", "r-1", steps: 20_000)], by: Fixture.ingest)
        #expect(corrected.first?.awards.map(\.points) == [5])
    }

    @Test("more than 1,000 events are refused whole")
    func tooMany() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        let events = (0...1_000).map { fixture.visit("v-\($0)", "r-1") }
        await #expect(throws: AyumiError.tooManyEvents(count: 1_001, max: 1_000)) {
            try await fixture.ayumi.ingest(events, by: Fixture.ingest)
        }
        #expect(try await fixture.ayumi.balance(residentID: "r-1") == 0)
    }

    @Test("a resident's token submits only that resident's events")
    func ownEventsOnly() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        try await fixture.enrol("r-2")
        await #expect(throws: AyumiError.self) {
            try await fixture.ayumi.ingest([fixture.walk("w-1", "r-1", steps: 5_000), fixture.walk("w-2", "r-2", steps: 5_000)],
                                           by: Principal(role: .resident, subject: "r-1"))
        }
        #expect(try await fixture.ayumi.balance(residentID: "r-1") == 0)
    }

    @Test("a backup holds the same ledger and can be opened on its own")
    func backup() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        _ = try await fixture.ayumi.ingest([fixture.walk("w-1", "r-1", steps: 6_000), fixture.visit("v-1", "r-1")], by: Fixture.ingest)
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("ayumi-backup-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        try await fixture.ayumi.backup(toPath: copy + "/ayumi.sqlite")
        let restored = try await Ayumi.open(dataDirectory: copy, rulesDirectory: Fixture.repositoryRoot + "/Rules",
                                            merchantsFile: Fixture.repositoryRoot + "/Merchants/merchants.yaml",
                                            environment: fixture.ayumi.environment, logger: .init(label: "test"))
        #expect(try await restored.balance(residentID: "r-1") == 5)
        #expect(try await restored.verifyLedger().violations.isEmpty)
        // The signing key came along: a code issued before the backup still verifies after a restore.
        let code = try fixture.ayumi.issueCode(residentID: "r-1").code
        _ = try await restored.redeem(merchantID: "m-001", code: code, points: 1, idempotencyKey: "k-1")
        await #expect(throws: AyumiError.self) { try await fixture.ayumi.backup(toPath: copy + "/ayumi.sqlite") }
    }

    @Test("acknowledged awards survive closing and reopening the database")
    func durable() async throws {
        let fixture = try await Fixture.make()
        try await fixture.enrol("r-1")
        _ = try await fixture.ayumi.ingest([fixture.walk("w-1", "r-1", steps: 6_000)], by: Fixture.ingest)
        let reopened = try await Ayumi.open(dataDirectory: fixture.directory, rulesDirectory: Fixture.repositoryRoot + "/Rules",
                                            merchantsFile: Fixture.repositoryRoot + "/Merchants/merchants.yaml",
                                            environment: fixture.ayumi.environment, logger: .init(label: "test"))
        #expect(try await reopened.balance(residentID: "r-1") == 3)
        let (history, _) = try await reopened.history(residentID: "r-1", cursor: nil, limit: 10)
        #expect(history.first?.ruleID == "walk-steps")
        #expect(history.first?.rulesetVersion == reopened.ruleset.version)
    }
}

@Suite("Redemption")
struct RedemptionTests {
    func funded(_ fixture: Fixture, steps: Int64 = 10_000) async throws -> String {
        try await fixture.enrol("r-1")
        _ = try await fixture.ayumi.ingest([fixture.walk("w-1", "r-1", steps: steps), fixture.visit("v-1", "r-1")], by: Fixture.ingest)
        return try fixture.ayumi.issueCode(residentID: "r-1").code
    }

    @Test("a redemption moves points to the merchant, traced to sponsors first-to-expire-first")
    func redeem() async throws {
        let fixture = try await Fixture.make()
        let code = try await funded(fixture)
        let record = try await fixture.ayumi.redeem(merchantID: "m-001", code: code, points: 6, idempotencyKey: "k-1")
        #expect(record.points == 6)
        #expect(record.funding.reduce(0) { $0 + $1.points } == 6)
        #expect(Set(record.funding.map(\.sponsorID)) == ["city-health", "shotengai"])
        #expect(try await fixture.ayumi.balance(residentID: "r-1") == 1)
        #expect(try await fixture.ayumi.verifyLedger().violations.isEmpty)
    }

    @Test("the same idempotency key returns the first answer without a second debit")
    func idempotent() async throws {
        let fixture = try await Fixture.make()
        let code = try await funded(fixture)
        let first = try await fixture.ayumi.redeem(merchantID: "m-001", code: code, points: 3, idempotencyKey: "k-1")
        fixture.clock.advance(seconds: 600) // a retry after the code expired still gets its answer
        let retry = try await fixture.ayumi.redeem(merchantID: "m-001", code: code, points: 3, idempotencyKey: "k-1")
        #expect(retry == first)
        #expect(try await fixture.ayumi.balance(residentID: "r-1") == 4)
        await #expect(throws: AyumiError.idempotencyKeyReused) {
            try await fixture.ayumi.redeem(merchantID: "m-001", code: code, points: 4, idempotencyKey: "k-1")
        }
    }

    @Test("a code is single-use: a second redemption with it fails")
    func replay() async throws {
        let fixture = try await Fixture.make()
        let code = try await funded(fixture)
        _ = try await fixture.ayumi.redeem(merchantID: "m-001", code: code, points: 1, idempotencyKey: "k-1")
        await #expect(throws: AyumiError.codeAlreadyUsed) {
            try await fixture.ayumi.redeem(merchantID: "m-002", code: code, points: 1, idempotencyKey: "k-2")
        }
        #expect(try await fixture.ayumi.balance(residentID: "r-1") == 6)
    }

    @Test("expired, forged and overdrawn codes fail and change nothing")
    func refusals() async throws {
        let fixture = try await Fixture.make()
        let code = try await funded(fixture)
        await #expect(throws: AyumiError.insufficientPoints(balance: 7, requested: 8)) {
            try await fixture.ayumi.redeem(merchantID: "m-001", code: code, points: 8, idempotencyKey: "k-1")
        }
        var forged = Array(code)
        forged[10] = forged[10] == "A" ? "B" : "A"
        await #expect(throws: AyumiError.codeForged) {
            try await fixture.ayumi.redeem(merchantID: "m-001", code: String(forged), points: 1, idempotencyKey: "k-2")
        }
        fixture.clock.advance(seconds: 120)
        await #expect(throws: AyumiError.codeExpired) {
            try await fixture.ayumi.redeem(merchantID: "m-001", code: code, points: 1, idempotencyKey: "k-3")
        }
        #expect(try await fixture.ayumi.balance(residentID: "r-1") == 7)
    }

    @Test("points are not spendable after their last day")
    func expired() async throws {
        let fixture = try await Fixture.make()
        _ = try await funded(fixture) // 7 points, last day 2027-11-24
        fixture.clock.advance(seconds: 365 * 86_400)
        let code = try fixture.ayumi.issueCode(residentID: "r-1").code
        await #expect(throws: AyumiError.insufficientPoints(balance: 0, requested: 1)) {
            try await fixture.ayumi.redeem(merchantID: "m-001", code: code, points: 1, idempotencyKey: "k-1")
        }
    }

    @Test("two spends racing against one balance: exactly one succeeds")
    func doubleSpend() async throws {
        let fixture = try await Fixture.make()
        _ = try await funded(fixture) // 7 points
        let codes = try (0..<2).map { _ in try fixture.ayumi.issueCode(residentID: "r-1").code }
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for (index, code) in codes.enumerated() {
                group.addTask {
                    (try? await fixture.ayumi.redeem(merchantID: "m-00\(index + 1)", code: code, points: 5, idempotencyKey: "k-\(index)")) != nil
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 1)
        #expect(try await fixture.ayumi.balance(residentID: "r-1") == 2)
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
            _ = try await fixture.ayumi.ingest(events, by: Fixture.ingest)
            let resident = residents[Int(random.next() % 8)]
            let code = try fixture.ayumi.issueCode(residentID: resident).code
            let points = Int64(random.next() % 6) + 1
            if let record = try? await fixture.ayumi.redeem(merchantID: "m-00\(random.next() % 9 + 1)", code: code, points: points,
                                                            idempotencyKey: "k-\(round)") {
                redeemed += record.points
            }
            if round % 10 == 9 { fixture.clock.advance(seconds: 86_400) }
        }
        let audit = try await fixture.ayumi.verifyLedger()
        #expect(audit.violations.isEmpty, "\(audit.violations)")
        #expect(redeemed > 0)
        var total: Int64 = 0
        let dailyPointsMax = ["walk-steps": Int64(5), "transit-ride": 4, "downtown-visit": 2]
        for id in residents {
            let balance = try await fixture.ayumi.balance(residentID: id)
            #expect(balance >= 0)
            var history: [HistoryEntry] = []
            var cursor: String?
            repeat {
                let (page, next) = try await fixture.ayumi.history(residentID: id, cursor: cursor, limit: 7)
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
            total += balance
        }
        let report = try await fixture.ayumi.beneficiaryReport(from: fixture.today.adding(days: -5), to: fixture.today)
        let program = report.rows.first!
        #expect(program.pointsAwarded - program.pointsRedeemed == total)
        #expect(program.pointsRedeemed == redeemed)
    }
}

@Suite("Beneficiary report")
struct ReportTests {
    @Test("counts per sponsor, rule and merchant, with groups under 10 residents suppressed")
    func report() async throws {
        let fixture = try await Fixture.make()
        for index in 0..<12 {
            try await fixture.enrol("r-\(index)")
            _ = try await fixture.ayumi.ingest([fixture.walk("w-\(index)", "r-\(index)", steps: 4_000)], by: Fixture.ingest)
        }
        _ = try await fixture.ayumi.ingest([fixture.visit("v-1", "r-1"), fixture.tap("t-1", "r-1")], by: Fixture.ingest)
        let code = try fixture.ayumi.issueCode(residentID: "r-1").code
        _ = try await fixture.ayumi.redeem(merchantID: "m-003", code: code, points: 3, idempotencyKey: "k")
        let report = try await fixture.ayumi.beneficiaryReport(from: fixture.today, to: fixture.today)
        let csv = report.csv(language: .en)
        let lines = csv.split(separator: "\r\n").map(String.init)
        #expect(lines[0] == "section,id,name,points_awarded,points_redeemed,yen_awarded,yen_redeemed,residents")
        #expect(lines[1] == "program,all,Ayumi Points (Minato demo city),27,3,27,3,12")
        #expect(lines.contains("rule,walk-steps,Walking,24,0,24,0,12"))
        #expect(lines.contains("rule,downtown-visit,Downtown visit,2,0,2,0,<10"))
        #expect(lines.contains("merchant,m-003,Cafe Ayumi,0,3,0,3,<10"))
        #expect(report.csv(language: .ja).hasPrefix("区分,ID,名称,付与ポイント"))
        let again = try await fixture.ayumi.beneficiaryReport(from: fixture.today, to: fixture.today)
        #expect(again.csv(language: .en) == csv)
        #expect(again.json() == report.json())
    }
}
