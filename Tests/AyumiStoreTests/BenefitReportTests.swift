import AyumiCore
@testable import AyumiReports
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
    /// from day 28 on days ≡ 0 or 3 (mod 7), by bus; the 3 in 14103 ride the tram. Visits downtown: days 0
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
                    events.append(fixture.tap("t-\(day)-\(index)", resident.id, mode: index >= 48 ? "tram" : "bus"))
                }
                if baseline ? day % 14 == 0 : day % 7 == 1 { events.append(fixture.visit("v-\(day)-\(index)", resident.id)) }
            }
            let results = try await fixture.submit(events)
            #expect(results.allSatisfy { $0.status == .accepted }, "\(results.first { $0.status != .accepted }?.reason?.en ?? "")")
            if day >= 31 && day % 7 == 2 {
                for index in stride(from: 0, to: 51, by: 4) {
                    let code = try await fixture.ayumi.redemptions.issueCode(residentID: "r-\(index)").code
                    _ = try await fixture.ayumi.redemptions.redeem(merchantID: "m-00\(1 + index % 3)", code: code, points: 2,
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
        let fares: Int64 = 48 * 9 * 220 + 3 * 9 * 180
        #expect(transit.value("fare-revenue") == fares, "bus ¥220, tram ¥180 (Rules/fares.yaml)")
        // Each: 9 − 4 × 30 / 28 more rides; in 28ths: 9 × 28 − 4 × 30 = 132.
        #expect(transit.value("additional-rides") == Int64((51 * 132 * 2 + 28) / 56), "240.4 rides, rounded")
        let extraFares: Int64 = (48 * 132 * 220 + 3 * 132 * 180) / 28
        #expect(transit.value("additional-fare-revenue") == extraFares)
        // Visits: days ≡ 1 mod 7 in November: 36, 43, 50, 57 → 4; 4 × 28 − 2 × 30 = 52 in 28ths.
        #expect(merchants.value("visits") == Int64(51 * 4))
        #expect(merchants.value("additional-visits") == Int64((51 * 52 * 2 + 28) / 56))
        #expect(merchants.value("additional-sales") == Int64(51 * 52 * 1_200 / 28), "× ¥1,200 a visit (Rules/benefits.yaml)")
        // Redemptions: 13 residents (every 4th) × 4 weeks (days 37, 44, 51, 58) × 2 points.
        #expect(merchants.value("redemptions") == Int64(13 * 4))
        #expect(merchants.value("points-redeemed") == Int64(13 * 4 * 2))
        #expect(benefits.party(.residents).value("participants") == 51)
        #expect(benefits.party(.residents).value("yen-received") == 104)

        // Costs: a whole month of each layer; each sponsor's yen as the ledger summary has it.
        #expect(benefits.layers.map(\.yen) == [600_000, 250_000, 120_000])
        #expect(benefits.layers[1].paidBy == [.government: 200_000, .transit: 50_000, .merchants: 0])
        let sponsorRows = report.rows.filter { $0.kind == .sponsor }
        #expect(benefits.sponsors.map(\.yen) == sponsorRows.map { $0.redeemed?.yen })
        #expect(benefits.sponsors.reduce(0) { $0 + ($1.yen ?? 0) } == 104, "the points redeemed, in yen, all paid by some sponsor")
        #expect(benefits.totalCost == Int64(970_000 + 104))
        // The proposal: the total in proportion to 93,330 : 52,328 : 113,657, in whole yen adding up.
        let shares = benefits.sharing
        let weights = shares.map { $0.benefitYen! }
        #expect(weights == [93_330, 52_328, 113_657])
        #expect(shares.reduce(0) { $0 + $1.proposedYen! } == 970_104)
        for share in shares {
            let exact = Double(970_104) * Double(share.benefitYen!) / Double(weights.reduce(0, +))
            #expect(abs(Double(share.proposedYen!) - exact) < 1)
            #expect(share.differenceYen == share.proposedYen! - share.paidYen!)
        }
        #expect(shares.reduce(0) { $0 + $1.paidYen! } == 970_104, "what the parties paid is the whole cost")
        #expect(shares.map(\.permille) == [360, 202, 438])
        // The steps trend: every day of November, 1,000 steps above the baseline line.
        #expect(benefits.trend.count == 30)
        #expect(benefits.trend.allSatisfy { $0.averageSteps == benefits.baselineSteps! + 1_000 })

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

    /// Whether the value of unknown `index` follows from the equations `rows` (coefficients over the
    /// unknowns): it does when its unit vector lies in their span, i.e. adding it keeps the rank.
    static func determined(_ index: Int, _ rows: [[Double]]) -> Bool {
        func rank(_ matrix: [[Double]]) -> Int {
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
        var unit = Array(repeating: 0.0, count: rows.first?.count ?? 0)
        unit[index] = 1
        return rank(rows) == rank(rows + [unit])
    }

    /// What an outsider can write down from a published table with its margins (the last row and
    /// column): one equation per row and column over the suppressed cells.
    static func equations(hidden: Set<BenefitReport.Cell>, rows: Int, columns: Int) -> [[Double]] {
        let unknowns = hidden.sorted()
        func equation(_ cells: [BenefitReport.Cell], total: BenefitReport.Cell) -> [Double] {
            unknowns.map { cells.contains($0) ? 1 : ($0 == total ? -1 : 0) }
        }
        var result: [[Double]] = []
        for row in 0..<rows {
            result.append(equation((0..<columns - 1).map { BenefitReport.Cell(row: row, column: $0) }, total: .init(row: row, column: columns - 1)))
        }
        for column in 0..<columns {
            result.append(equation((0..<rows - 1).map { BenefitReport.Cell(row: $0, column: column) }, total: .init(row: rows - 1, column: column)))
        }
        return result.filter { $0.contains { $0 != 0 } }
    }

    @Test("an outsider with every published cell and total cannot work out one suppressed cell of the residents' table")
    func attack() async throws {
        let fixture = try await Self.twoMonths()
        let report = try await fixture.ayumi.reporting.beneficiaryReport(from: LocalDate("2026-11-01")!, to: LocalDate("2026-11-30")!)
        // Read it back as published (JSON), as the attacker would.
        struct Published: Decodable {
            struct Benefits: Decodable {
                struct Cell: Decodable { var ageBand: String?, district: String?, participants: Int64?, active: Int64?, suppressed: Bool }
                var ageBands: [String], districts: [String], residents: [Cell]
            }
            var benefits: Benefits
        }
        let published = try JSONDecoder().decode(Published.self, from: report.json()).benefits
        let rows = published.ageBands.count + 1, columns = published.districts.count + 1
        var hidden = Set<BenefitReport.Cell>()
        var known: [BenefitReport.Cell: Int64] = [:]
        for (index, cell) in published.residents.enumerated() {
            let position = BenefitReport.Cell(row: index / columns, column: index % columns)
            if cell.suppressed { hidden.insert(position) } else { known[position] = cell.participants }
        }
        // r-48…r-50 (40–64, 14103) are 3: their cell, their band's and their district's totals are hidden.
        #expect(hidden.contains(.init(row: 1, column: 2)) && hidden.contains(.init(row: 1, column: 3)) && hidden.contains(.init(row: 4, column: 2)))
        // A line with one hidden cell would give it away at once (the total less the rest).
        for row in 0..<rows { #expect((0..<columns).filter { hidden.contains(.init(row: row, column: $0)) }.count != 1, "row \(row)") }
        for column in 0..<columns { #expect((0..<rows).filter { hidden.contains(.init(row: $0, column: column)) }.count != 1, "column \(column)") }
        // And no combination of the lines does either.
        let system = Self.equations(hidden: hidden, rows: rows, columns: columns)
        for (index, cell) in hidden.sorted().enumerated() { #expect(!Self.determined(index, system), "\(cell) follows from the others") }
        // Nor is a group of fewer than 10 given away by a line's total less its shown cells (3 residents
        // aged 40–74 from the column of band totals, with their points), for any count published.
        func group(_ line: [BenefitReport.Cell], _ value: (Published.Benefits.Cell) -> Int64?) -> Int64? {
            let cells = line.map { published.residents[$0.row * columns + $0.column] }
            guard let total = value(cells.last!), line.dropLast().contains(where: hidden.contains) else { return nil }
            return total - cells.dropLast().compactMap(value).reduce(0, +)
        }
        let lines = (0..<rows).map { row in (0..<columns).map { BenefitReport.Cell(row: row, column: $0) } }
            + (0..<columns).map { column in (0..<rows).map { BenefitReport.Cell(row: $0, column: column) } }
        for line in lines {
            for (name, value) in [("participants", { (c: Published.Benefits.Cell) in c.participants }), ("active", { $0.active }),
                                  ("not active", { c in c.participants.flatMap { p in c.active.map { p - $0 } } })] {
                if let hiddenSum = group(line, value) { #expect(hiddenSum == 0 || hiddenSum >= 10, "\(line.first!)…: \(hiddenSum) \(name)") }
            }
        }
        #expect(known[.init(row: rows - 1, column: columns - 1)] == 51, "the grand total is always shown (the ledger publishes it)")
    }

    @Test("over random tables, every small cell is hidden and no hidden cell follows from the rest", arguments: 0..<30)
    func randomTables(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let bands = 2 + Int(random.next() % 4), districts = 1 + Int(random.next() % 6)
        var grid = Array(repeating: Array(repeating: BenefitReport.Counts(), count: districts + 1), count: bands + 1)
        for row in 0..<bands {
            for column in 0..<districts {
                var counts = BenefitReport.Counts()
                counts.participants = Int64(random.next() % 4 == 0 ? random.next() % 10 : random.next() % 40)
                counts.active = counts.participants - Int64(random.next() % UInt64(counts.participants / 3 + 1))
                for (r, c) in [(row, column), (row, districts), (bands, column), (bands, districts)] { grid[r][c].add(counts) }
            }
        }
        let hidden = BenefitReport.suppressedCells(grid, k: 10)
        let grand = BenefitReport.Cell(row: bands, column: districts)
        if grid[bands][districts].isSmall(10) {
            #expect(hidden.count == (bands + 1) * (districts + 1), "a small city's table is all X")
            return
        }
        #expect(!hidden.contains(grand), "the grand total is shown")
        for row in grid.indices {
            for column in grid[row].indices where grid[row][column].isSmall(10) {
                #expect(hidden.contains(.init(row: row, column: column)))
            }
        }
        let system = Self.equations(hidden: hidden, rows: bands + 1, columns: districts + 1)
        for (index, cell) in hidden.sorted().enumerated() { #expect(!Self.determined(index, system), "seed \(seed): \(cell)") }
        // Every line whose total is shown: its hidden cells together are no small group.
        let lines = (0...bands).map { row in (0...districts).map { BenefitReport.Cell(row: row, column: $0) } }
            + (0...districts).map { column in (0...bands).map { BenefitReport.Cell(row: $0, column: column) } }
        for line in lines where !hidden.contains(line.last!) {
            let together = line.dropLast().filter(hidden.contains).reduce(into: BenefitReport.Counts()) { $0.add(grid[$1.row][$1.column]) }
            #expect(!together.isSmall(10), "seed \(seed): \(line.first!)…")
        }
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
        #expect(benefits.sharing.allSatisfy { $0.proposedYen == nil && $0.permille == nil })
        #expect(benefits.trend.allSatisfy { $0.averageSteps == nil })
        let json = String(decoding: report.json(), as: UTF8.self)
        #expect(!json.contains("\"participants\" : 3"))
        // Before anyone enrolled: no participant, nothing measured, the operating cost still counted.
        let before = try #require(try await fixture.ayumi.reporting.beneficiaryReport(from: LocalDate("2026-01-01")!, to: LocalDate("2026-01-31")!).benefits)
        #expect(before.party(.residents).value("participants") == 0)
        #expect(before.party(.government).value("measured-walkers") == 0)
        #expect(before.totalCost == 970_000)
        #expect(before.sharing.allSatisfy { $0.proposedYen == nil }, "no benefit measured: nothing to share by")
    }
}
