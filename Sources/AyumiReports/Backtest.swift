import AyumiCore
import Foundation

/// The figures of one side of a backtest (what the ledger paid, or what a candidate ruleset would
/// have paid) over a period, counted award share by award share.
public struct BacktestTally: Sendable {
    public private(set) var points: Int64 = 0
    public private(set) var awards = 0
    public private(set) var cappedAwards = 0
    public private(set) var pointsBySponsor: [String: Int64] = [:]
    public private(set) var pointsByDay: [Int: Int64] = [:]
    /// Residents by a dense number, so that the sets below hash integers, not ids.
    private var residentNumbers: [String: Int] = [:]
    private(set) var residents: [Resident] = []
    private var pointsByResident: [Int64] = []
    /// Who stands behind each sponsor's and each day's figure: a figure of fewer residents than the
    /// program's group size minimum is not shown.
    private var residentsBySponsor: [String: Set<Int>] = [:]
    private var residentsByDay: [Int: Set<Int>] = [:]
    /// What each sponsor paid each day (its budget burn), and who stands behind it.
    /// Keyed by sponsor number × 2^32 + day number: one integer hash per share.
    private var pointsBySponsorDay: [Int: Int64] = [:]
    private var residentsBySponsorDay: [Int: Set<Int>] = [:]
    private var sponsorNumbers: [String: Int] = [:]
    private var sponsorNames: [String] = []

    public init() {}

    /// One sponsor's share of an award; `first` for the first share of each award.
    public mutating func add(resident: Resident, sponsorID: String, points: Int64, day: LocalDate, first: Bool, capped: Bool) {
        self.points += points
        if first {
            awards += 1
            if capped { cappedAwards += 1 }
        }
        let number: Int
        if let known = residentNumbers[resident.id] {
            number = known
        } else {
            number = residents.count
            residentNumbers[resident.id] = number
            residents.append(resident)
            pointsByResident.append(0)
        }
        pointsByResident[number] += points
        pointsBySponsor[sponsorID, default: 0] += points
        pointsByDay[day.dayNumber, default: 0] += points
        residentsBySponsor[sponsorID, default: []].insert(number)
        residentsByDay[day.dayNumber, default: []].insert(number)
        let sponsor: Int
        if let known = sponsorNumbers[sponsorID] {
            sponsor = known
        } else {
            sponsor = sponsorNames.count
            sponsorNumbers[sponsorID] = sponsor
            sponsorNames.append(sponsorID)
        }
        let sponsorDay = sponsor << 32 + (day.dayNumber & 0xFFFF_FFFF)
        pointsBySponsorDay[sponsorDay, default: 0] += points
        residentsBySponsorDay[sponsorDay, default: []].insert(number)
    }

    /// Residents who received at least one point.
    public var residentsReached: Int { residents.count }

    /// The points of the resident at rank `p` (0…1) among those reached, lowest first.
    public func pointsPerResident(_ p: Double) -> Int64 {
        let sorted = pointsByResident.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * p).rounded(.up)) - 1))]
    }

    /// Residents reached per group, as (group, residents, residents).
    func reached(by group: (Resident) -> String) -> [(key: String, value: Int64, residents: Int)] {
        var counts: [String: Int] = [:]
        for resident in residents { counts[group(resident), default: 0] += 1 }
        return counts.map { ($0.key, Int64($0.value), $0.value) }
    }

    var sponsorFigures: [(key: String, value: Int64, residents: Int)] {
        pointsBySponsor.map { ($0.key, $0.value, residentsBySponsor[$0.key]?.count ?? 0) }
    }

    /// A sponsor's points per day, keyed `sponsor date`.
    var sponsorDayFigures: [(key: String, value: Int64, residents: Int)] {
        pointsBySponsorDay.map { key, points in
            let day = Int(Int32(truncatingIfNeeded: key & 0xFFFF_FFFF))
            return ("\(sponsorNames[key >> 32]) \(LocalDate(dayNumber: day))", points, residentsBySponsorDay[key]?.count ?? 0)
        }
    }

    var dayFigures: [(key: String, value: Int64, residents: Int)] {
        pointsByDay.map { (LocalDate(dayNumber: $0.key).description, $0.value, residentsByDay[$0.key]?.count ?? 0) }
    }
}

/// The figures of a section that add up to a shown total, with those drawn from fewer than
/// `minimum` residents hidden (nil). One hidden figure alone would be the total less the others,
/// so the smallest shown one is hidden with it; a side reaching fewer than `minimum` residents
/// shows nothing at all.
func suppressed(_ figures: [(key: String, value: Int64, residents: Int)], minimum: Int, sideShown: Bool) -> [String: Int64?] {
    guard sideShown else { return Dictionary(uniqueKeysWithValues: figures.map { ($0.key, Int64?.none) }) }
    var hidden = Set(figures.filter { $0.residents < minimum }.map(\.key))
    if hidden.count == 1, let next = figures.filter({ !hidden.contains($0.key) }).min(by: { ($0.residents, $0.key) < ($1.residents, $1.key) }) {
        hidden.insert(next.key)
    }
    return Dictionary(uniqueKeysWithValues: figures.map { ($0.key, hidden.contains($0.key) ? nil : $0.value) })
}

/// A backtest: the ledger's figures beside a candidate ruleset's for the same stored events.
public struct BacktestReport: Sendable {
    public var from: LocalDate
    public var to: LocalDate
    public var candidateVersion: String
    public var events: Int
    public var actual: BacktestTally
    public var candidate: BacktestTally
    public var yenPerPoint: Int64
    /// The candidate program's (it may change the value of a point).
    public var candidateYenPerPoint: Int64
    /// Groups of residents smaller than this are not shown.
    public var groupSizeMin: Int

    public init(from: LocalDate, to: LocalDate, candidateVersion: String, events: Int, actual: BacktestTally, candidate: BacktestTally,
                yenPerPoint: Int64, candidateYenPerPoint: Int64, groupSizeMin: Int) {
        self.from = from
        self.to = to
        self.candidateVersion = candidateVersion
        self.events = events
        self.actual = actual
        self.candidate = candidate
        self.yenPerPoint = yenPerPoint
        self.candidateYenPerPoint = candidateYenPerPoint
        self.groupSizeMin = groupSizeMin
    }

    /// The age a resident reaches in the period's last year, in ten-year bands.
    static func ageBand(_ resident: Resident, in year: Int) -> String {
        let age = year - resident.birthYear
        switch age {
        case ..<20: return "0-19"
        case 80...: return "80+"
        default: return "\(age / 10 * 10)-\(age / 10 * 10 + 9)"
        }
    }

    /// Rows of (section, key, actual, candidate); nil is a suppressed figure.
    public func rows(_ language: Language) -> [(section: String, key: String, actual: Int64?, candidate: Int64?)] {
        let ja = language == .ja
        let actualShown = actual.residentsReached >= groupSizeMin, candidateShown = candidate.residentsReached >= groupSizeMin
        var rows: [(String, String, Int64?, Int64?)] = []
        func both(_ section: String, _ key: String, _ a: Int64, _ c: Int64) {
            rows.append((section, key, actualShown ? a : nil, candidateShown ? c : nil))
        }
        let total = ja ? "合計" : "total"
        both(total, ja ? "ポイント" : "points", actual.points, candidate.points)
        both(total, ja ? "円" : "yen", actual.points * yenPerPoint, candidate.points * candidateYenPerPoint)
        both(total, ja ? "付与件数" : "awards", Int64(actual.awards), Int64(candidate.awards))
        both(total, ja ? "上限で減額された件数" : "awards capped", Int64(actual.cappedAwards), Int64(candidate.cappedAwards))
        both(total, ja ? "対象者数" : "residents reached", Int64(actual.residentsReached), Int64(candidate.residentsReached))
        let perResident = ja ? "1人あたりポイント" : "points per resident"
        for (label, p) in [("p50", 0.5), ("p90", 0.9), ("max", 1.0)] {
            both(perResident, label, actual.pointsPerResident(p), candidate.pointsPerResident(p))
        }
        func section(_ name: String, _ a: [(key: String, value: Int64, residents: Int)], _ c: [(key: String, value: Int64, residents: Int)],
                     scale: (Int64, Int64) = (1, 1)) {
            let shownA = suppressed(a, minimum: groupSizeMin, sideShown: actualShown)
            let shownC = suppressed(c, minimum: groupSizeMin, sideShown: candidateShown)
            for key in Set(shownA.keys).union(shownC.keys).sorted() {
                // A group absent on one side is 0 there, unless that side shows nothing.
                let valueA: Int64? = shownA[key].map { $0.map { $0 * scale.0 } } ?? (actualShown ? 0 : nil)
                let valueC: Int64? = shownC[key].map { $0.map { $0 * scale.1 } } ?? (candidateShown ? 0 : nil)
                rows.append((name, key, valueA, valueC))
            }
        }
        section(ja ? "負担者（ポイント）" : "sponsor points", actual.sponsorFigures, candidate.sponsorFigures)
        section(ja ? "負担者（円）" : "sponsor yen", actual.sponsorFigures, candidate.sponsorFigures, scale: (yenPerPoint, candidateYenPerPoint))
        let year = to.year
        section(ja ? "年齢層別の対象者数" : "residents reached by age band", actual.reached { Self.ageBand($0, in: year) },
                candidate.reached { Self.ageBand($0, in: year) })
        section(ja ? "地区別の対象者数" : "residents reached by district", actual.reached(by: \.district), candidate.reached(by: \.district))
        section(ja ? "日別のポイント" : "points per day", actual.dayFigures, candidate.dayFigures)
        section(ja ? "負担者別・日別のポイント（予算の消化）" : "sponsor points per day (budget burn)", actual.sponsorDayFigures, candidate.sponsorDayFigures)
        return rows
    }

    public func table(_ language: Language) -> String {
        let ja = language == .ja
        let header = ja
            ? "バックテスト \(from)〜\(to)：保存済みイベント \(events)件、候補ルールセット \(candidateVersion)（\(groupSizeMin)人未満のグループは X）\n"
            : "Backtest \(from) to \(to): \(events) stored events, candidate Rules version \(candidateVersion) (groups under \(groupSizeMin) residents read X)\n"
        let rows = rows(language)
        func cell(_ value: Int64?) -> String { value.map { grouped($0) } ?? "X" }
        let labels = rows.map { "\($0.section): \($0.key)" }
        let width = max(labels.map(\.count).max() ?? 0, 10)
        var out = header
        out += pad(ja ? "項目" : "figure", width) + "  " + left(ja ? "実績" : "actual", 14) + "  " + left(ja ? "候補" : "candidate", 14) + "  "
            + left(ja ? "差" : "change", 14) + "\n"
        for (row, label) in zip(rows, labels) {
            let change = zip2(row.actual, row.candidate).map { grouped($1 - $0, signed: true) } ?? "X"
            out += pad(label, width) + "  " + left(cell(row.actual), 14) + "  " + left(cell(row.candidate), 14) + "  " + left(change, 14) + "\n"
        }
        return out
    }

    public func csv(_ language: Language) -> String {
        let ja = language == .ja
        var out = ja ? "区分,項目,実績,候補,差\r\n" : "section,key,actual,candidate,change\r\n"
        for row in rows(language) {
            let change = zip2(row.actual, row.candidate).map { String($1 - $0) } ?? "X"
            out += "\(row.section),\(row.key),\(row.actual.map(String.init) ?? "X"),\(row.candidate.map(String.init) ?? "X"),\(change)\r\n"
        }
        return out
    }

    public func json() -> Data {
        struct Row: Encodable { var section: String; var key: String; var actual: Int64?; var candidate: Int64? }
        struct Body: Encodable {
            var from: String; var to: String; var candidateVersion: String; var events: Int; var groupSizeMin: Int; var rows: [Row]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = Body(from: from.description, to: to.description, candidateVersion: candidateVersion, events: events, groupSizeMin: groupSizeMin,
                        rows: rows(.en).map { Row(section: $0.section, key: $0.key, actual: $0.actual, candidate: $0.candidate) })
        return try! encoder.encode(body)
    }

    private func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
    private func left(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
    private func zip2(_ a: Int64?, _ b: Int64?) -> (Int64, Int64)? { if let a, let b { (a, b) } else { nil } }
}
