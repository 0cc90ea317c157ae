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
}
