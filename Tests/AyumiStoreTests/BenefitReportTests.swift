import AyumiCore
import AyumiRules
@testable import AyumiReports
import AyumiServices
import AyumiStore
import AyumiTestSupport
import Foundation
import Testing

@Suite("Beneficiaries and cost sharing")
struct BenefitReportTests {
    /// October and November 2026. 48 residents enrol on 1 October: 24 in district 14101 and 24 in
    /// 14102, half born 1950 (75 and over in 2026), half 1990 (under 40); 3 more, born 1970, in
    /// 14103. Each walks every day: resident i 5,000 + 100 × (i mod 20) steps in the first 28 days
    /// (the baseline), 1,000 more from then on. Rides: on days 0, 7, 14, 21 of the baseline (4), and
    /// from day 28 on days ≡ 0 or 3 (mod 7), by bus, r-36…r-50 (15) by tram. Visits to the centre: days 0
    /// and 14 of the baseline (2), then days ≡ 1 (mod 7). In November every 4th resident spends 2 points a week.
    static func twoMonths() async throws -> Fixture {
        let fixture = try await Fixture.make(start: Date(timeIntervalSince1970: 1_790_827_200))   // 2026-10-01 12:00 in Tokyo
        var residents: [(id: String, base: Int64)] = []
        for index in 0..<48 {
            let id = "r-\(index)"
            try await fixture.enrol(id, birthYear: index % 2 == 0 ? 1950 : 1990, district: index < 24 ? "14101" : "14102")
            residents.append((id, 5_000 + 100 * Int64(index % 20)))
        }
        for index in 48..<51 {
            try await fixture.enrol("r-\(index)", birthYear: 1970, district: "14103")
            residents.append(("r-\(index)", 5_000 + 100 * Int64(index % 20)))
        }
        for day in 0..<61 {
            let baseline = day < 28
            var events: [Event] = []
            for (index, resident) in residents.enumerated() {
                events.append(fixture.walk("w-\(day)-\(index)", resident.id, steps: resident.base + (baseline ? 0 : 1_000)))
                if baseline ? day % 7 == 0 : (day % 7 == 0 || day % 7 == 3) {
                    events.append(fixture.tap("t-\(day)-\(index)", resident.id, mode: index >= 36 ? "tram" : "bus"))
                }
                if baseline ? day % 14 == 0 : day % 7 == 1 { events.append(fixture.visit("v-\(day)-\(index)", resident.id)) }
            }
            let results = try await fixture.submit(events)
            #expect(results.allSatisfy { $0.status == .accepted }, "\(results.first { $0.status != .accepted }?.reason?.en ?? "")")
            if day >= 31 && day % 7 == 2 {
                for index in stride(from: 0, to: 51, by: 4) {
                    let code = try await fixture.ayumi.redemptions.issueCode(residentID: "r-\(index)").code
                    _ = try await fixture.ayumi.redemptions.redeem(merchantID: "shop-\(1 + index % 3)", code: code, points: 2,
                                                                   idempotencyKey: "k-\(day)-\(index)")
                }
            }
            fixture.clock.advance(seconds: 86_400)
        }
        return fixture
    }

    @Test("November against each resident's first 28 days: steps, rides and visits gained, in yen by the coefficients; costs and a proposed share")
    func november() async throws {
        let fixture = try await Self.twoMonths()
        let report = try await fixture.ayumi.reporting.beneficiaryReport(from: LocalDate("2026-11-01")!, to: LocalDate("2026-11-30")!)
        let benefits = try #require(report.benefits)
        let city = benefits.party(.government), transit = benefits.party(.transit), merchants = benefits.party(.merchants)
        // Every walker: 1,000 more steps a day on all 30 days of November → 30,000 step-days each.
        #expect(city.value("measured-walkers") == 51)
        #expect(city.value("additional-steps") == 1_000)
        #expect(city.value("additional-step-days") == Int64(51 * 30_000))
        #expect(city.value("medical-cost-saved") == 93_330, "1,530,000 step-days × ¥0.061")
        let meanBase = (0..<51).reduce(Int64(0)) { $0 + 5_000 + 100 * Int64($1 % 20) }
        #expect(city.value("baseline-steps") == (meanBase * 2 + 51) / (51 * 2), "the mean of the baselines, rounded")
        // November: days 31…60 of the program; rides on days ≡ 0 (4) or 3 (5) mod 7: 9 each.
        #expect(transit.value("rides") == Int64(51 * 9))
        let fares: Int64 = 36 * 9 * 220 + 15 * 9 * 180
        #expect(transit.value("fare-revenue") == fares, "bus ¥220, tram ¥180 (the tests' fares.yaml)")
        // Each: 9 − 4 × 30 / 28 more rides; in 28ths: 9 × 28 − 4 × 30 = 132.
        #expect(transit.value("additional-rides") == Int64((51 * 132 * 2 + 28) / 56), "240.4 rides, rounded")
        let extraFares: Int64 = (36 * 132 * 220 + 15 * 132 * 180) / 28
        #expect(transit.value("additional-fare-revenue") == extraFares)
        // Visits: days ≡ 1 mod 7 in November: 36, 43, 50, 57 → 4; 4 × 28 − 2 × 30 = 52 in 28ths.
        #expect(merchants.value("visits") == Int64(51 * 4))
        #expect(merchants.value("additional-visits") == Int64((51 * 52 * 2 + 28) / 56))
        #expect(merchants.value("additional-sales") == Int64(51 * 52 * 1_200 / 28), "× ¥1,200 a visit (the tests' benefits.yaml)")
        // Redemptions: 13 residents (every 4th) × 4 weeks (days 37, 44, 51, 58) × 2 points.
        #expect(merchants.value("redemptions") == Int64(13 * 4))
        #expect(merchants.value("points-redeemed") == Int64(13 * 4 * 2))
        #expect(benefits.party(.residents).value("participants") == 51)
        #expect(benefits.party(.residents).value("yen-received") == 104)

        // Costs: a whole month of each layer; each sponsor's yen as the ledger summary has it.
        #expect(benefits.layers.map(\.yen) == [600_000, 250_000, 120_000])
        #expect(benefits.layers[1].paidBy == [.government: 200_000, .transit: 50_000, .merchants: 0])
        // Each sponsor's yen is what the settlement traces to that sponsor's lots.
        let settled = try await fixture.ayumi.dependencies.reports.settlementFacts(from: LocalDate("2026-11-01")!, to: LocalDate("2026-11-30")!).facts
            .reduce(into: [String: Int64]()) { $0[$1.sponsorID, default: 0] += $1.kind == .redemption ? $1.points : -$1.points }
        #expect(benefits.sponsors.map(\.id) == ["health-office", "metro-company", "traders"])
        #expect(benefits.sponsors.map(\.yen) == benefits.sponsors.map { settled[$0.id] ?? 0 })
        #expect(benefits.sponsors.reduce(0) { $0 + ($1.yen ?? 0) } == 104, "the points redeemed, in yen, all paid by some sponsor")
        #expect(benefits.totalCost == Int64(970_000 + 104))
        // The proposal: the total in proportion to 93,330 : 50,065 : 113,657, in whole yen adding up.
        let shares = benefits.sharing
        let weights = shares.map { $0.benefitYen! }
        #expect(weights == [93_330, 50_065, 113_657])
        #expect(shares.reduce(0) { $0 + $1.proposedYen! } == 970_104)
        for share in shares {
            let exact = Double(970_104) * Double(share.benefitYen!) / Double(weights.reduce(0, +))
            #expect(abs(Double(share.proposedYen!) - exact) < 1)
            #expect(share.differenceYen == share.proposedYen! - share.paidYen!)
        }
        #expect(shares.reduce(0) { $0 + $1.paidYen! } == 970_104, "what the parties paid is the whole cost")
        #expect(shares.map(\.permille) == [363, 195, 442])
        // The steps trend: every day of November, 1,000 steps above the baseline line.
        #expect(benefits.trend.count == 30)
        #expect(benefits.trend.allSatisfy { $0.averageSteps == benefits.baselineSteps! + 1_000 })

        // A period reaching past today compares only the days that have ended (today is 1 December).
        let longer = try #require(try await fixture.ayumi.reporting.beneficiaryReport(from: LocalDate("2026-11-01")!, to: LocalDate("2026-12-31")!).benefits)
        for id in ["additional-rides", "additional-fare-revenue"] { #expect(longer.party(.transit).value(id) == transit.value(id), "\(id)") }
        #expect(longer.party(.government).value("medical-cost-saved") == 93_330)
        await #expect(throws: AyumiError.invalidRequest("from and to: at most 3660 days, from first to last")) {
            try await fixture.ayumi.reporting.beneficiaryReport(from: LocalDate("2000-01-01")!, to: LocalDate("2026-11-30")!)
        }

        // Every format carries it; twice gives the same bytes.
        let again = try await fixture.ayumi.reporting.beneficiaryReport(from: LocalDate("2026-11-01")!, to: LocalDate("2026-11-30")!)
        #expect(try report.xlsx(language: .ja) == (try again.xlsx(language: .ja)))
        #expect(report.json() == again.json() && report.csv(language: .en) == again.csv(language: .en))
        let csv = report.csv(language: .en)
        #expect(csv.contains("\r\n\r\ntable,party,party_name,figure,name,value,unit,basis\r\n"))
        #expect(csv.contains("\r\nbenefits,government,The city (government),medical-cost-saved,Medical cost saved (estimate),93330,yen,"))
        #expect(csv.contains("\r\nassumptions,medical-cost,Medical cost coefficient,"))
        let html = report.html(language: .ja)
        #expect(html.components(separatedBy: "<svg ").count - 1 == 3, "points by sponsor, steps trend, benefit and cost")
        #expect(!html.contains("<script") && html.contains("医療費抑制額（推計）") && html.contains("93,330"))
        #expect(html.contains("筑波大学"), "the coefficient's source is printed")
    }

    /// What is wrong with a residents' table as published: a shown figure of a small group, or, in
    /// any one count (residents, active, not active, earning, redeeming), a group of suppressed cells
    /// whose sum an outsider can work out and which is 1 to k − 1 (every subset is tried when at most
    /// 14 cells are suppressed; single cells otherwise). The outsider's relations: each row's and
    /// column's total, and the grand total, less its shown cells, is the sum of its suppressed cells;
    /// and as no count is negative, any such sum that is 0 shows each of its cells is 0 (repeated
    /// until nothing more follows).
    static func leaks(_ table: ResidentsTable, k: Int64) -> [String] {
        let rows = table.grid.count - 1, columns = table.grid[0].count - 1
        var problems: [String] = []
        let all = (0...rows).flatMap { row in (0...columns).map { BenefitReport.Cell(row: row, column: $0) } }
        for cell in all where !table.hidden.contains(cell) && table.grid[cell.row][cell.column].isSmall(k) {
            problems.append("shown small group at \(cell)")
        }
        if table.hidden.contains(.init(row: rows, column: columns)) { return problems }   // all X
        for cell in all where (cell.row == rows || cell.column == columns) && table.hidden.contains(cell) { problems.append("hidden margin \(cell)") }
        let unknowns = table.hidden.sorted()
        let lines: [[Double]] = (0..<rows).map { row in unknowns.map { $0.row == row ? 1 : 0 } }
            + (0..<columns).map { column in unknowns.map { $0.column == column ? 1 : 0 } } + [unknowns.map { _ in 1 }]
        let measures: [(String, (BenefitReport.Counts) -> Int64)] = [
            ("residents", { $0.participants }), ("active", { $0.active }), ("not active", { $0.participants - $0.active }),
            ("earning", { $0.earners }), ("redeeming", { $0.redeemers }),
        ]
        let subsets: [[Int]] = unknowns.count <= 14
            ? (1..<(1 << unknowns.count)).map { subset in unknowns.indices.filter { (subset >> $0) & 1 == 1 } }
            : unknowns.indices.map { [$0] }
        for (name, measure) in measures {
            var relations = lines
            var known = Set<Int>()
            func follows(_ members: [Int]) -> Bool {
                let vector = unknowns.indices.map { members.contains($0) ? 1.0 : 0.0 }
                return rank(relations + [vector]) == rank(relations)
            }
            func value(_ members: [Int]) -> Int64 { members.reduce(0) { $0 + measure(table.grid[unknowns[$1].row][unknowns[$1].column]) } }
            // Zeros first: every sum that follows and is 0 pins its cells, which may make more follow.
            var changed = true
            while changed {
                changed = false
                for members in subsets where !Set(members).isSubset(of: known) && value(members) == 0 && follows(members) {
                    for member in members where !known.contains(member) {
                        known.insert(member)
                        relations.append(unknowns.indices.map { $0 == member ? 1 : 0 })
                    }
                    changed = true
                }
            }
            for members in subsets where follows(members) {
                let sum = value(members)
                if sum > 0 && sum < k { problems.append("\(name): cells \(members.map { unknowns[$0] }) follow, \(sum)") }
            }
        }
        return problems
    }

    static func rank(_ matrix: [[Double]]) -> Int {
        var m = matrix, rank = 0
        let columns = m.first?.count ?? 0
        for column in 0..<columns {
            guard let pivot = (rank..<m.count).first(where: { abs(m[$0][column]) > 1e-9 }) else { continue }
            m.swapAt(rank, pivot)
            for row in 0..<m.count where row != rank && abs(m[row][column]) > 1e-9 {
                let factor = m[row][column] / m[rank][column]
                for c in 0..<columns { m[row][c] -= factor * m[rank][c] }
            }
            rank += 1
        }
        return rank
    }

    @Test("an outsider with every published cell and total can work out no suppressed cell, and no group of fewer than 10, of the residents' table")
    func attack() async throws {
        // Three districts of 15, 22 and 25; 14101 has 12 residents under 40 and 3 aged 75 and over.
        let fixture = try await Fixture.make()
        for (district, young, old) in [("14101", 12, 3), ("14102", 10, 12), ("14103", 14, 11)] {
            for index in 0..<(young + old) { try await fixture.enrol("r-\(district)-\(index)", birthYear: index < young ? 1990 : 1950, district: district) }
        }
        let report = try await fixture.ayumi.reporting.beneficiaryReport(from: fixture.today, to: fixture.today)
        // Read it back as published (JSON), as the attacker would.
        struct Published: Decodable {
            struct Benefits: Decodable {
                struct Cell: Decodable { var ageBand: String?, district: String?, participants: Int64?, suppressed: Bool }
                var ageBands: [String], districts: [String], residents: [Cell]
            }
            var benefits: Benefits
        }
        let published = try JSONDecoder().decode(Published.self, from: report.json()).benefits
        #expect(published.districts == ["14101", "14102", "14103"] && published.ageBands == ["–39", "40–64", "65–74", "75–"])
        let columns = published.districts.count + 1
        let hidden = Set(published.residents.indices.filter { published.residents[$0].suppressed }.map {
            BenefitReport.Cell(row: $0 / columns, column: $0 % columns)
        })
        // The 3 (75–, 14101) with the cheapest rectangle that protects them: 14103's 11, and both
        // districts' residents under 40, so that no column's part of it is a small group.
        #expect(hidden == [.init(row: 0, column: 0), .init(row: 0, column: 2), .init(row: 3, column: 0), .init(row: 3, column: 2)])
        #expect(published.residents.filter { !$0.suppressed && $0.ageBand == nil }.map(\.participants) == [15, 22, 25, 62])
        // The table as the report made it, from the same facts: every true count behind it.
        let assessment = try #require(fixture.ayumi.dependencies.program.current.ruleset.assessment)
        let facts = try await fixture.ayumi.dependencies.reports.readReports {
            try $0.participantFacts(from: fixture.today, to: fixture.today, measuredThrough: fixture.today, baselineDays: 28, bucketDays: 1,
                                    visitZones: ["centre"])
        }
        let table = ResidentsTable.make(facts.participants, assessment: assessment, year: fixture.today.year, k: 10)
        #expect(table.hidden == hidden)
        #expect(Self.leaks(table, k: 10) == [])
        // Without the rectangle, the 3 would follow from their row's total less the shown cells.
        var bare = table
        bare.hidden = [.init(row: 3, column: 0)]
        #expect(Self.leaks(bare, k: 10).contains { $0.hasPrefix("residents: cells [") && $0.hasSuffix("] follow, 3") })
    }

    @Test("two small cells of one district are not given away together: the rectangle grows until the district's part is 10 or more")
    func twoSmallInOneColumn() {
        let inner: [[Int64]] = [[3, 20, 20], [4, 20, 20], [20, 20, 20]]
        var grid = Array(repeating: Array(repeating: BenefitReport.Counts(), count: 4), count: 4)
        for (row, values) in inner.enumerated() {
            for (column, value) in values.enumerated() {
                var counts = BenefitReport.Counts()
                counts.participants = value
                for r in [row, 3] { for c in [column, 3] { grid[r][c].add(counts) } }
            }
        }
        let table = ResidentsTable(bands: ["a", "b", "c"], districts: ["x", "y", "z"], grid: grid, hidden: ResidentsTable.suppressed(grid, k: 10))
        // 3 + 4 in district x alone would follow from its total less the shown 20: the third band joins.
        #expect(Set(table.hidden.map(\.row)) == [0, 1, 2] && Set(table.hidden.map(\.column)) == [0, 1])
        #expect(Self.leaks(table, k: 10) == [])
        var leaky = table
        leaky.hidden = [.init(row: 0, column: 0), .init(row: 0, column: 1), .init(row: 1, column: 0), .init(row: 1, column: 1)]
        #expect(Self.leaks(leaky, k: 10).contains { $0.hasPrefix("residents: cells [") && $0.hasSuffix("] follow, 7") }, "3 + 4 in district x")
    }

    @Test("over 60 random cities, the residents' table shows no small group and gives none away")
    func randomTables() throws {
        let assessment = try #require(try RulesParser.load(directory: Fixture.rulesDirectory).assessment)
        var rectangles = 0
        for seed: UInt64 in 0..<60 {
            var random = SplitMix64(seed: seed)
            let districts = (0..<(2 + Int(random.next() % 5))).map { "1410\($0)" }
            var participants: [ParticipantFacts.Participant] = []
            for district in districts {
                for band in 0..<4 {
                    // A cell: its residents (few in one of four), all active or none (one in five), all
                    // redeeming or none; what makes a cell small is mostly its size.
                    let count = Int(random.next() % 4 == 0 ? random.next() % 10 : 10 + random.next() % 30)
                    let active = random.next() % 5 != 0, redeeming = random.next() % 2 == 0
                    for _ in 0..<count {
                        var participant = ParticipantFacts.Participant(
                            birthYear: 2026 - [30, 50, 70, 80][band], district: district, enrolled: LocalDate("2026-10-01")!, active: active,
                            pointsEarned: active ? 1 + Int64(random.next() % 50) : 0, pointsRedeemed: redeeming ? 1 + Int64(random.next() % 20) : 0)
                        participant.redeemedAny = redeeming
                        participants.append(participant)
                    }
                }
            }
            let table = ResidentsTable.make(participants, assessment: assessment, year: 2026, k: 10)
            let inner = table.hidden.filter { $0.row < table.bands.count && $0.column < table.districts.count }
            if !inner.isEmpty && inner.count <= 14 && inner.count < table.bands.count * table.districts.count { rectangles += 1 }
            #expect(Self.leaks(table, k: 10) == [], "seed \(seed): \(table.bands) × \(table.districts)")
        }
        #expect(rectangles >= 15, "the cities exercise proper rectangles, each subset of them tried: \(rectangles)")
    }

    @Test("fares that differ by mode hide the revenue when a mode's riders are fewer than 10: rides and revenue would give that mode's rides")
    func faresByMode() throws {
        let assessment = try #require(try RulesParser.load(directory: Fixture.rulesDirectory).assessment)
        func city(tramRiders: Int) -> BenefitReport.PartySection {
            let participants = (0..<30).map { index in
                ParticipantFacts.Participant(birthYear: 1980, district: "14101", enrolled: LocalDate("2026-09-01")!, active: true, pointsEarned: 0,
                                             pointsRedeemed: 0, inPeriod: .init(rides: [index < tramRiders ? "tram" : "bus": 4]))
            }
            let report = try? BenefitReport.make(facts: ParticipantFacts(participants: participants, walkTrend: []), ledgerRows: [], sponsorParties: [:],
                                                 redemptions: (0, 0), assessment: assessment, yenPerPoint: 1, groupSizeMin: 10,
                                                 from: LocalDate("2026-11-01")!, to: LocalDate("2026-11-30")!, measuredThrough: LocalDate("2026-11-30")!)
            return report!.party(.transit)
        }
        #expect(city(tramRiders: 3).value("fare-revenue") == nil, "3 tram riders: 220 × rides − revenue would give their rides")
        #expect(city(tramRiders: 3).value("rides") == 120)
        let mixed: Int64 = 12 * 4 * 180 + 18 * 4 * 220, bus: Int64 = 30 * 4 * 220
        #expect(city(tramRiders: 12).value("fare-revenue") == mixed)
        #expect(city(tramRiders: 0).value("fare-revenue") == bus, "one mode: nothing to tell apart")
    }

    @Test("the operating cost of a period: each month's share of its days, summed exactly and cut to whole yen once")
    func operatingCost() throws {
        // 17 July – 16 August: 15/31 of July and 16/31 of August is one whole month's cost, to the yen.
        for yen: Int64 in [600_000, 250_000, 120_000, 1] {
            #expect(try BenefitReport.periodCost(yen, from: LocalDate("2026-07-17")!, to: LocalDate("2026-08-16")!) == yen)
        }
        #expect(try BenefitReport.periodCost(600_000, from: LocalDate("2026-11-01")!, to: LocalDate("2026-11-15")!) == 300_000)
        #expect(try BenefitReport.periodCost(100, from: LocalDate("2026-02-01")!, to: LocalDate("2026-02-01")!) == 3, "100 / 28, cut")
        #expect(try BenefitReport.periodCost(120_000, from: LocalDate("2026-01-01")!, to: LocalDate("2026-12-31")!) == 1_440_000)
        #expect(BenefitReport.largestRemainder(10, weights: [1, 1, 1]) == [4, 3, 3])
        #expect(BenefitReport.largestRemainder(7, weights: [0, 0]) == [0, 0])
    }

    @Test("a city of 3 shows no figure of theirs, proposes no share, and a period before anyone enrolled reads zeros")
    func small() async throws {
        let fixture = try await Fixture.make()
        for index in 0..<3 { try await fixture.enrol("r-\(index)") }
        _ = try await fixture.submit((0..<3).map { fixture.walk("w-\($0)", "r-\($0)", steps: 9_000) })
        let report = try await fixture.ayumi.reporting.beneficiaryReport(from: fixture.today, to: fixture.today)
        let benefits = try #require(report.benefits)
        #expect(benefits.residents.allSatisfy { $0.counts == nil }, "every cell of the table reads X")
        #expect(benefits.party(.residents).value("participants") == nil && benefits.party(.residents).value("points-earned") == nil)
        #expect(benefits.sharing.allSatisfy { $0.proposedYen == nil && $0.permille == nil && !$0.proposalSuppressed }, "no one past their baseline: no benefit yet")
        #expect(benefits.trend.allSatisfy { $0.averageSteps == nil })
        let json = String(decoding: report.json(), as: UTF8.self)
        #expect(!json.contains("\"participants\" : 3"))
        // Before anyone enrolled: no participant, nothing measured, the operating cost still counted.
        let before = try #require(try await fixture.ayumi.reporting.beneficiaryReport(from: LocalDate("2026-01-01")!, to: LocalDate("2026-01-31")!).benefits)
        #expect(before.party(.residents).value("participants") == 0)
        #expect(before.party(.government).value("measured-walkers") == 0)
        #expect(before.totalCost == 970_000)
        #expect(before.sharing.allSatisfy { $0.proposedYen == nil && !$0.proposalSuppressed }, "no benefit measured: nothing to share by")
        // Nothing hidden there: what was not computed reads -, not X.
        let csv = try await fixture.ayumi.reporting.beneficiaryReport(from: LocalDate("2026-01-01")!, to: LocalDate("2026-01-31")!).csv(language: .en)
        #expect(csv.contains("\r\ncost-sharing,government,The city (government),0,-,-,860000,-\r\n"))
        #expect(csv.contains("\r\nsteps-trend,2026-01-01,2026-01-01,-\r\n"))
    }
}
