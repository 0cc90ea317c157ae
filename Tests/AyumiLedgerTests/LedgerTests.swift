import AyumiCore
import AyumiLedger
import Testing

@Suite("Ledger model")
struct LedgerTests {
    let today = LocalDate("2026-11-25")!

    func lot(_ id: Int64, _ sponsor: String, _ points: Int64, _ expires: String) -> Lot {
        Lot(id: id, sponsorID: sponsor, pointsRemaining: points, expiresOn: LocalDate(expires)!)
    }

    @Test("spending draws the lot that expires first, then the oldest")
    func firstToExpireFirst() {
        let lots = [lot(1, "city", 3, "2027-03-01"), lot(2, "transit", 2, "2027-01-01"), lot(3, "shop", 4, "2027-01-01")]
        let draws = Lots.draw(6, from: lots, on: today)!
        #expect(draws.map(\.lotID) == [2, 3])
        #expect(draws.map(\.points) == [2, 4])
        #expect(Lots.draw(7, from: lots, on: today)!.last == LotDraw(lotID: 1, sponsorID: "city", points: 1))
    }

    @Test("spending more than the lots hold draws nothing")
    func insufficient() {
        #expect(Lots.draw(10, from: [lot(1, "city", 9, "2027-01-01")], on: today) == nil)
        #expect(Lots.draw(1, from: [], on: today) == nil)
    }

    @Test("points past their last day are not spent, even before the expiry job runs")
    func expiredLots() {
        let lots = [lot(1, "city", 3, "2026-11-24"), lot(2, "shop", 2, "2026-11-25")]
        #expect(Lots.spendable(lots, on: today) == 2)
        #expect(Lots.draw(2, from: lots, on: today) == [LotDraw(lotID: 2, sponsorID: "shop", points: 2)])
        #expect(Lots.draw(3, from: lots, on: today) == nil)
    }

    @Test("a balance reads the lots: spendable, pending, past their last day, and what expires within 30 days, by last day")
    func balance() {
        var pending = lot(4, "city", 5, "2027-06-01")
        pending.availableOn = today.adding(days: 2)
        let lots = [lot(1, "city", 3, "2026-11-24"), lot(2, "shop", 2, "2026-11-25"), lot(3, "city", 1, "2026-11-25"), pending,
                    lot(5, "bus", 6, "2026-12-24"), lot(6, "bus", 7, "2026-12-25"), lot(7, "bus", 0, "2026-11-30")]
        #expect(Lots.balance(lots, on: today) == Balance(spendable: 16, pastExpiry: 3, pending: 5, expiring: [
            ExpiringPoints(lastDay: today, points: 3), ExpiringPoints(lastDay: LocalDate("2026-12-24")!, points: 6),
        ]), "the 25th of December is 30 days away: not within the next 30")
        #expect(Lots.balance([], on: today) == Balance(spendable: 0, pastExpiry: 0))
    }

    @Test("points earned on a day expire the day before the same date N months later")
    func expiry() {
        #expect(Lots.expiry(earnedOn: LocalDate("2026-11-25")!, months: 12) == LocalDate("2027-11-24"))
    }

    @Test("an award is one transfer per funding sponsor, each summing to zero")
    func awardTransfer() {
        let award = Award(ruleID: "transit", rulesetVersion: "v", points: 3,
                          funding: [SponsorShare(sponsorID: "city", points: 2), SponsorShare(sponsorID: "bus", points: 1)],
                          reason: LocalizedText(ja: "", en: ""))
        let transfers = Transfer.award(award, residentID: "r-1")
        #expect(transfers == [Transfer(kind: .award, debit: .sponsor("city"), credit: .resident("r-1"), amount: 2),
                              Transfer(kind: .award, debit: .sponsor("bus"), credit: .resident("r-1"), amount: 1)])
        #expect(transfers.flatMap(\.postings).reduce(0) { $0 + $1.points } == 0)
        #expect(transfers[0].postings == [Posting(account: .sponsor("city"), points: -2), Posting(account: .resident("r-1"), points: 2)])
    }

    @Test("accounts round-trip through their stored form", arguments: [
        Account.sponsor("health-office"), .resident("r-123"), .merchant("shop-1"),
    ])
    func accounts(account: Account) {
        #expect(Account(account.description) == account)
    }

    @Test("an audit with findings lists each of them")
    func auditViolations() {
        let audit = LedgerAudit(transferCount: 3, balanceMismatches: [("sponsor:city", -3, -2)], negativeResidentBalances: [("resident:r-1", -2)])
        #expect(audit.violations == ["sponsor:city: balance -3 but its transfers sum to -2", "resident:r-1: negative balance -2"])
    }

    // MARK: Spending: a shop's limits, then the lots

    static let noLimits = Spending.Limits(pointsPerDay: nil, pointsPerResidentPerDay: nil)
    static let nothingTaken = Spending.TakenToday(points: 0, fromResident: 0)

    @Test("a redemption within the shop's limits draws the lots first to expire first")
    func planWithinLimits() {
        let lots = [lot(1, "city", 3, "2027-03-01"), lot(2, "transit", 2, "2027-01-01")]
        let limits = Spending.Limits(pointsPerDay: 10, pointsPerResidentPerDay: 4)
        #expect(Spending.plan(4, from: lots, on: today, limits: limits, taken: .init(points: 6, fromResident: 0))
                == .success([LotDraw(lotID: 2, sponsorID: "transit", points: 2), LotDraw(lotID: 1, sponsorID: "city", points: 2)]))
    }

    @Test("a shop's daily limit is checked before the resident's, and says what is left (never below zero)", arguments: [
        (Int64(5), Int64(5), Int64(0), Spending.Refusal.merchantDailyLimit(left: 4)),
        (Int64(2), Int64(12), Int64(0), Spending.Refusal.merchantDailyLimit(left: 0)),
        (Int64(2), Int64(0), Int64(3), Spending.Refusal.residentDailyLimitAtMerchant(left: 1)),
        (Int64(1), Int64(9), Int64(9), Spending.Refusal.merchantDailyLimit(left: 0)),
    ])
    func planOverLimits(points: Int64, takenPoints: Int64, takenFromResident: Int64, refusal: Spending.Refusal) {
        let limits = Spending.Limits(pointsPerDay: 9, pointsPerResidentPerDay: 4)
        #expect(Spending.plan(points, from: [lot(1, "city", 50, "2027-03-01")], on: today, limits: limits,
                              taken: .init(points: takenPoints, fromResident: takenFromResident)) == .failure(refusal))
    }

    @Test("a shop's limit is the answer even when the points fall short too: a till learns nothing of the balance past its limit")
    func limitBeforeBalance() {
        let limits = Spending.Limits(pointsPerDay: 3, pointsPerResidentPerDay: nil)
        #expect(Spending.plan(5, from: [lot(1, "city", 2, "2027-03-01")], on: today, limits: limits, taken: Self.nothingTaken)
                == .failure(.merchantDailyLimit(left: 3)))
    }

    @Test("a shop's day counts each redemption less what was refunded of it, and the paying resident's apart")
    func takenToday() {
        let taken = Spending.TakenToday([Spending.DayRedemption(points: 5, refunded: 2, fromResident: true),
                                         Spending.DayRedemption(points: 4, refunded: 4, fromResident: false),
                                         Spending.DayRedemption(points: 6, refunded: 0, fromResident: false)])
        #expect(taken == Spending.TakenToday(points: 9, fromResident: 3))
    }

    @Test("a redemption over the spendable points names the balance, past-expiry and pending lots left out")
    func planInsufficient() {
        var pending = lot(3, "city", 5, "2027-03-01")
        pending.availableOn = today.adding(days: 1)
        let lots = [lot(1, "city", 3, "2026-11-24"), lot(2, "shop", 2, "2026-11-25"), pending]
        #expect(Spending.plan(3, from: lots, on: today, limits: Self.noLimits, taken: Self.nothingTaken)
                == .failure(.insufficientPoints(balance: 2)))
    }

    // MARK: Refunds: which lots get points back

    func drawn(_ id: Int64, _ sponsor: String, _ expires: String, drawn: Int64, refunded: Int64 = 0) -> Refunds.DrawnLot {
        Refunds.DrawnLot(lotID: id, sponsorID: sponsor, expiresOn: LocalDate(expires)!, drawn: drawn, refunded: refunded)
    }

    @Test("a partial refund gives back the points that would live longest: latest to expire first, then the newest lot")
    func refundLatestFirst() {
        let lots = [drawn(1, "city", "2027-01-01", drawn: 2), drawn(2, "transit", "2027-03-01", drawn: 2), drawn(3, "shop", "2027-03-01", drawn: 1)]
        let shares = try? Refunds.allocate(4, of: lots, redeemedOn: today, on: today, refundDaysMax: 30).get()
        #expect(shares == [Refunds.Share(lotID: 3, sponsorID: "shop", points: 1, toSponsor: false),
                           Refunds.Share(lotID: 2, sponsorID: "transit", points: 2, toSponsor: false),
                           Refunds.Share(lotID: 1, sponsorID: "city", points: 1, toSponsor: false)])
    }

    @Test("what earlier refunds gave back to a lot is not given again; no amount refunds all that is left")
    func refundAfterRefund() {
        let lots = [drawn(1, "city", "2027-01-01", drawn: 3, refunded: 1), drawn(2, "shop", "2027-03-01", drawn: 2, refunded: 2)]
        #expect(Refunds.refundable(lots) == 2)
        #expect(Refunds.allocate(nil, of: lots, redeemedOn: today, on: today, refundDaysMax: 30)
                == .success([Refunds.Share(lotID: 1, sponsorID: "city", points: 2, toSponsor: false)]))
        #expect(Refunds.allocate(3, of: lots, redeemedOn: today, on: today, refundDaysMax: 30) == .failure(.exceedsRedemption(refundable: 2)))
        #expect(Refunds.allocate(0, of: lots, redeemedOn: today, on: today, refundDaysMax: 30) == .failure(.exceedsRedemption(refundable: 2)))
    }

    @Test("points of a lot past its last day go back to its sponsor, not to the resident")
    func refundOfExpiredLot() {
        let lots = [drawn(1, "city", "2026-11-24", drawn: 2), drawn(2, "shop", "2026-11-25", drawn: 1)]
        #expect(Refunds.allocate(3, of: lots, redeemedOn: today.adding(days: -3), on: today, refundDaysMax: 30)
                == .success([Refunds.Share(lotID: 2, sponsorID: "shop", points: 1, toSponsor: false),
                             Refunds.Share(lotID: 1, sponsorID: "city", points: 2, toSponsor: true)]))
    }

    @Test("a redemption is refunded up to the window's last day, not after", arguments: [(30, true), (31, false)])
    func refundWindow(daysAgo: Int, allowed: Bool) {
        let result = Refunds.allocate(1, of: [drawn(1, "city", "2027-01-01", drawn: 1)], redeemedOn: today.adding(days: -daysAgo), on: today,
                                      refundDaysMax: 30)
        #expect(allowed ? (try? result.get()) != nil : result == .failure(.tooLate(daysMax: 30)))
    }

    @Test("every kind keeps its stored number, and reads back from it")
    func storedCodes() {
        #expect(Transfer.Kind.allCases.map(\.code) == [1, 2, 3, 4])
        #expect(Transfer.Kind.allCases.allSatisfy { Transfer.Kind(code: $0.code) == $0 })
        #expect(Transfer.Kind(code: 5) == nil)
        #expect(Account.Kind.allCases.map(\.rawValue) == [1, 2, 3])
        #expect(Event.Kind.allCases.map(\.code) == [1, 2, 3])
        #expect(Event.Kind.allCases.allSatisfy { Event.Kind(code: $0.code) == $0 })
    }

    @Test("the movements production writes: draws, refunds and expiries name their lot, move between the right accounts and change the lot as the ledger keeps it")
    func movements() {
        let draws = Transfer.redemption([LotDraw(lotID: 7, sponsorID: "city", points: 3), LotDraw(lotID: 9, sponsorID: "shop", points: 1)],
                                        residentID: "r-1", merchantID: "m-1")
        #expect(draws == [Transfer(kind: .redemption, debit: .resident("r-1"), credit: .merchant("m-1"), amount: 3, lot: 7),
                          Transfer(kind: .redemption, debit: .resident("r-1"), credit: .merchant("m-1"), amount: 1, lot: 9)])
        #expect(draws.map(\.lotChange) == [-3, -1])
        let refunds = Transfer.refund([Refunds.Share(lotID: 9, sponsorID: "shop", points: 1, toSponsor: false),
                                       Refunds.Share(lotID: 7, sponsorID: "city", points: 2, toSponsor: true)], residentID: "r-1", merchantID: "m-1")
        #expect(refunds.map(\.credit) == [.resident("r-1"), .sponsor("city")])
        #expect(refunds.map(\.lotChange) == [1, 0], "points given to the sponsor of a lot past its last day are not in the lot again")
        let expiry = Transfer.expiry(lot: 7, points: 4, residentID: "r-1", sponsorID: "city")
        #expect((expiry.debit, expiry.credit, expiry.lotChange) == (.resident("r-1"), .sponsor("city"), -4))
        #expect((draws + refunds + [expiry]).flatMap(\.postings).reduce(0) { $0 + $1.points } == 0)
        #expect(Transfer.award(Award(ruleID: "walk", rulesetVersion: "v", points: 2, funding: [SponsorShare(sponsorID: "city", points: 2)],
                                     reason: LocalizedText(ja: "", en: "")), residentID: "r-1").map(\.lotChange) == [0])
    }
}
