import AyumiCore
import AyumiReports
import Testing

/// A reader over rows held in memory: the counting is tested without any store.
struct MemoryReader: ReportReader {
    var residents: [Enrolment] = []
    var events: [Activity] = []
    /// The ledger's points per resident, by the period's first day.
    var points: [LocalDate: ResidentPoints] = [:]
    var storedEvents: [StoredEvent] = []
    var awardShares: [AwardShare] = []

    var movements: [LedgerMovement] = []
    var counts: [String: SettlementCounts] = [:]

    func ledgerMovements(from: LocalDate, to: LocalDate) throws -> [LedgerMovement] { movements }
    func merchantCounts(from: LocalDate, to: LocalDate) throws -> [String: SettlementCounts] { counts }
    func enrolments(through: LocalDate) throws -> [Enrolment] { residents.filter { $0.enrolled <= through } }
    func forEachActivity(from: LocalDate?, to: LocalDate, _ body: (Activity) throws -> Void) throws {
        for event in events where event.day <= to && event.day >= (from ?? event.day) { try body(event) }
    }
    func residentPoints(from: LocalDate, to: LocalDate) throws -> ResidentPoints { points[from] ?? ResidentPoints() }
    func forEachStoredEvent(from: LocalDate, to: LocalDate, _ body: (StoredEvent) throws -> Void) throws {
        for stored in storedEvents where (from...to).contains(stored.event.localDate(in: .gmt)) { try body(stored) }
    }
    func forEachAwardShare(from: LocalDate, to: LocalDate, _ body: (AwardShare) throws -> Void) throws {
        for share in awardShares where (from...to).contains(share.day) { try body(share) }
    }
}

@Suite("How reports count activity")
struct CountingTests {
    static let first = LocalDate("2026-11-01")!

    func day(_ offset: Int) -> LocalDate { Self.first.adding(days: offset) }
    func walk(_ resident: Int64, _ offset: Int, _ steps: Int64) -> Activity { Activity(resident: resident, day: day(offset), detail: .walk(steps: steps)) }
    func ride(_ resident: Int64, _ offset: Int, _ mode: String = "bus") -> Activity { Activity(resident: resident, day: day(offset), detail: .ride(mode: mode)) }
    func visit(_ resident: Int64, _ offset: Int, _ zone: String) -> Activity { Activity(resident: resident, day: day(offset), detail: .visit(zone: zone)) }
    func resident(_ number: Int64, enrolled offset: Int) -> Enrolment {
        Enrolment(resident: number, birthYear: 1950, district: "d1", enrolled: day(offset))
    }

    @Test("a day's walk counts once, at its largest report; a walker reaches the target when the average of her days does")
    func walkDays() throws {
        let reader = MemoryReader(residents: [resident(1, enrolled: 0), resident(2, enrolled: 0)],
                                  events: [walk(1, 3, 6_000), walk(1, 3, 9_000), walk(1, 4, 7_000), walk(2, 3, 7_999)])
        let facts = try #require(try reader.indicatorFacts([(day(0), day(29))], visitZones: nil).first)
        #expect((facts.walkDays, facts.steps, facts.walkers) == (3, 23_999, 2))
        #expect(facts.walkersReaching8000 == 1, "9,000 and 7,000 average 8,000; 7,999 falls short")
    }

    @Test("indicators count visits only to the zones named, and every accepted event makes its resident active")
    func indicatorVisits() throws {
        let reader = MemoryReader(residents: [resident(1, enrolled: 0), resident(2, enrolled: 10)],
                                  events: [visit(1, 2, "centre"), visit(2, 12, "harbour"), ride(2, 12), ride(2, 13)],
                                  points: [day(0): ResidentPoints(awarded: [1: 4, 2: 3], redemptions: [1: 2]),
                                           day(10): ResidentPoints(awarded: [2: 1])])
        let facts = try reader.indicatorFacts([(day(0), day(9)), (day(10), day(19))], visitZones: ["centre"])
        #expect(facts.map(\.enrolled) == [1, 2])
        #expect(facts.map(\.active) == [1, 1])
        #expect(facts.map(\.visits) == [1, 0])
        #expect(facts.map(\.visitors) == [1, 0])
        #expect(facts.map(\.rides) == [0, 2])
        #expect(facts.map(\.riders) == [0, 1])
        #expect((facts[0].pointsAwarded, facts[0].awardedResidents, facts[0].redemptions, facts[0].redeemers) == (7, 2, 2, 1))
        #expect((facts[1].pointsAwarded, facts[1].awardedResidents, facts[1].redemptions, facts[1].redeemers) == (1, 1, 0, 0),
                "each period's points are its own")
    }

    @Test("a participant's days fall in her baseline, the period, and the measured days after her baseline")
    func baselineWindows() throws {
        // Enrolled on day 0 with a 7-day baseline; the period is days 5 to 20, measured through day 15.
        let reader = MemoryReader(residents: [resident(1, enrolled: 0)],
                                  events: [walk(1, 1, 3_000), walk(1, 1, 4_000), walk(1, 6, 5_000), walk(1, 9, 6_000), walk(1, 18, 9_000),
                                           ride(1, 2, "tram"), ride(1, 10), visit(1, 11, "centre"), visit(1, 11, "harbour")])
        let facts = try reader.participantFacts(from: day(5), to: day(20), measuredThrough: day(15), baselineDays: 7, bucketDays: 7,
                                                visitZones: ["centre"])
        let participant = try #require(facts.participants.first)
        #expect(participant.baseline == .init(walkDays: 2, steps: 9_000, rides: ["tram": 1], visits: 0))
        #expect(participant.inPeriod == .init(walkDays: 3, steps: 20_000, rides: ["bus": 1], visits: 1))
        #expect(participant.afterBaseline == .init(walkDays: 1, steps: 6_000, rides: ["bus": 1], visits: 1),
                "day 6 is in the baseline, day 18 after the last day measured")
        #expect(participant.active)
    }

    @Test("the walk trend follows only walkers with walks in their baseline, from the day after it, per bucket of days")
    func walkTrend() throws {
        let reader = MemoryReader(residents: [resident(1, enrolled: 0), resident(2, enrolled: 0), resident(3, enrolled: 30)],
                                  events: [walk(1, 0, 2_000), walk(1, 2, 4_000), walk(1, 7, 8_000), walk(1, 8, 8_000), walk(1, 15, 10_000),
                                           walk(2, 8, 12_000)])
        let facts = try reader.participantFacts(from: day(0), to: day(20), measuredThrough: day(20), baselineDays: 7, bucketDays: 7,
                                                visitZones: nil)
        #expect(facts.participants.count == 2, "resident 3 enrolled after the period")
        #expect(facts.walkTrend == [.init(bucket: 1, walkDays: 2, steps: 16_000, walkers: 1), .init(bucket: 2, walkDays: 1, steps: 10_000, walkers: 1)],
                "resident 2 walked nothing in her baseline, and resident 1's baseline days are left out")
    }

    @Test("points redeemed are those of the period less what shops refunded in it, even when the two cancel out")
    func redeemedPoints() throws {
        let reader = MemoryReader(residents: [resident(1, enrolled: 0), resident(2, enrolled: 0), resident(3, enrolled: 0)],
                                  points: [day(0): ResidentPoints(awarded: [1: 9], redeemed: [1: 5, 2: 3], refunded: [1: 2, 2: 3])])
        let facts = try reader.participantFacts(from: day(0), to: day(9), measuredThrough: day(9), baselineDays: 7, bucketDays: 7, visitZones: nil)
        #expect(facts.participants.map(\.pointsEarned) == [9, 0, 0])
        #expect(facts.participants.map(\.pointsRedeemed) == [3, 0, 0])
        #expect(facts.participants.map(\.redeemedAny) == [true, true, false])
        #expect(facts.participants.map(\.active) == [false, false, false])
    }

    @Test("a participant is active only with events in the period; events before enrolment count in the period, residents enrolled after it not at all")
    func activeAndEnrolment() throws {
        // Resident 1 acted only in her baseline, before the period; resident 2 walked in the period on days before she enrolled;
        // resident 3 enrolled after the period's last day.
        let reader = MemoryReader(residents: [resident(1, enrolled: 0), resident(2, enrolled: 12), resident(3, enrolled: 25)],
                                  events: [walk(1, 1, 5_000), ride(1, 2), walk(2, 10, 4_000), walk(2, 13, 6_000), walk(3, 15, 9_000)])
        let facts = try reader.participantFacts(from: day(8), to: day(20), measuredThrough: day(20), baselineDays: 7, bucketDays: 7,
                                                visitZones: nil)
        #expect(facts.participants.count == 2)
        #expect(facts.participants.map(\.active) == [false, true])
        #expect(facts.participants[1].inPeriod.walkDays == 2, "day 10 precedes her enrolment but lies in the period")
        #expect(facts.participants[1].baseline.walkDays == 1, "her baseline starts on the day she enrolled")
    }

    static let movements = [
        LedgerMovement(kind: .awarded, rule: "walk", sponsor: "city", merchant: nil, resident: 1, points: 10),
        LedgerMovement(kind: .awarded, rule: "ride", sponsor: "bus", merchant: nil, resident: 2, points: 4),
        LedgerMovement(kind: .redeemed, rule: "walk", sponsor: "city", merchant: "shop-a", resident: 1, points: 6),
        LedgerMovement(kind: .refunded, rule: "walk", sponsor: "city", merchant: "shop-a", resident: 1, points: 2),
        LedgerMovement(kind: .refunded, rule: "ride", sponsor: "bus", merchant: "shop-b", resident: 2, ofEarlierRedemption: true, points: 3),
        LedgerMovement(kind: .expired, rule: "ride", sponsor: "bus", merchant: nil, resident: 2, points: 1),
    ]

    @Test("the ledger summary counts a refund against redemptions on its day, under the redemption's resident, even one of an earlier period")
    func ledgerSummary() throws {
        let facts = try MemoryReader(movements: Self.movements).beneficiaryFacts(from: day(0), to: day(9))
        #expect(facts.totals[.awarded] == .init(points: 14, residents: 2))
        #expect(facts.totals[.redeemed] == .init(points: 1, residents: 2), "6 redeemed, 2 and 3 given back")
        #expect(facts.cells[.redeemed]?[.merchant] == ["shop-a": .init(points: 4, residents: 1), "shop-b": .init(points: -3, residents: 1)])
        #expect(facts.cells[.redeemed]?[.sponsor]?["bus"] == .init(points: -3, residents: 1))
        #expect(facts.cells[.expired]?[.rule] == ["ride": .init(points: 1, residents: 1)])
        #expect(facts.cells[.awarded]?[.merchant] == nil, "merchants award nothing")
        #expect(facts.links[.redeemed] == [.init(rule: "walk", sponsor: "city"), .init(rule: "ride", sponsor: "bus")])
        #expect(facts.residentCount(.redeemed, .merchant, ids: ["shop-a", "shop-b"]) == 2)
    }

    @Test("a statement splits a shop's points by sponsor: redeemed, refunded of the month's redemptions, and adjusted for earlier ones")
    func settlementFacts() throws {
        let reader = MemoryReader(movements: Self.movements, counts: ["shop-a": SettlementCounts(redemptions: 2, refunds: 1)])
        let (facts, counts) = try reader.settlementFacts(from: day(0), to: day(9))
        #expect(facts == [SettlementFact(merchantID: "shop-a", sponsorID: "city", kind: .redemption, points: 6),
                          SettlementFact(merchantID: "shop-a", sponsorID: "city", kind: .refund, points: 2),
                          SettlementFact(merchantID: "shop-b", sponsorID: "bus", kind: .adjustment, points: 3)])
        #expect(counts["shop-a"]?.redemptions == 2)
    }
}
