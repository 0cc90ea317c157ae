import AyumiCore

/// The residents' table of the beneficiary report: age band × district, with both margins and the
/// grand total, made so that no group of 1 to k − 1 residents (in any count: enrolled, active, not
/// active, earning, redeeming) can be read or worked out from it (docs/reports.md, Privacy).
///
/// 1. **Recoding**: an age band whose total is such a group joins its smaller neighbour with
///    residents (its label becomes the joined range, such as `40–74`); districts whose totals are
///    join one column, `(other)`, and while that is still such a group, the smallest district joins
///    it. So every margin is shown. When the grand total is such a group, every cell reads X.
/// 2. **A rectangle of suppressed cells**: the rows and the columns that hold a small inner cell
///    span a rectangle, and every inner cell of it is suppressed; it grows by the cheapest row or
///    column with residents in its part (a line whose part is 0 shows its cells are 0) until it has
///    two rows and two columns at least, and every row's and every column's part of it is no small
///    group.
///
/// With every margin shown, what an outsider can work out of a full rectangle of suppressed cells is
/// a sum over some of its rows, or over some of its columns (a 0/1 combination of the cells that
/// follows from the line totals is `a[row] + b[column]`, which on a full grid is constant along rows
/// or along columns): each of those parts is no small group, so neither is any union of them. In
/// one count a cell's figure may follow when the rest of its line is 0 in that count; it is then
/// that line's part, no small group either. A test tries every subset of the suppressed cells of
/// random tables, in each count, against the relations the published table gives.
struct ResidentsTable {
    typealias Counts = BenefitReport.Counts
    typealias Cell = BenefitReport.Cell

    /// The label of the column of districts joined because they are small.
    static let otherDistricts = "(other)"

    var bands: [String]
    var districts: [String]
    /// (bands + 1) × (districts + 1): the last row and column are the totals.
    var grid: [[Counts]]
    var hidden: Set<Cell>

    /// Every band (then all bands) × every district (then all districts), suppressed cells without counts.
    var cells: [BenefitReport.ResidentCell] {
        grid.indices.flatMap { row in
            grid[row].indices.map { column in
                BenefitReport.ResidentCell(ageBand: row < bands.count ? bands[row] : nil, district: column < districts.count ? districts[column] : nil,
                                           counts: hidden.contains(Cell(row: row, column: column)) ? nil : grid[row][column])
            }
        }
    }

    static func make(_ participants: [ParticipantFacts.Participant], assessment: Assessment, year: Int, k: Int64) -> ResidentsTable {
        let baseBands = assessment.ageBands.count + 1
        let codes = Set(participants.map(\.district)).sorted()
        let codeIndex = Dictionary(uniqueKeysWithValues: codes.enumerated().map { ($1, $0) })
        var base = Array(repeating: Array(repeating: Counts(), count: codes.count), count: baseBands)
        for participant in participants {
            base[assessment.ageBand(year - participant.birthYear)][codeIndex[participant.district]!].add(participant)
        }
        func sum(_ cells: [Counts]) -> Counts { cells.reduce(into: Counts()) { $0.add($1) } }

        // Bands: runs of the configured bands, joined while a run's total is a small group.
        var runs = (0..<baseBands).map { $0...$0 }
        func runTotal(_ run: ClosedRange<Int>) -> Counts { sum(run.flatMap { base[$0] }) }
        while runs.count > 1, let small = runs.firstIndex(where: { runTotal($0).isSmall(k) }) {
            // The smaller neighbour with residents (an empty one would widen the label and fix nothing);
            // the upper one on a tie.
            let neighbour: Int
            if small == 0 { neighbour = 1 } else if small == runs.count - 1 { neighbour = small - 1 } else {
                let (below, above) = (runTotal(runs[small - 1]).participants, runTotal(runs[small + 1]).participants)
                neighbour = below > 0 && (above == 0 || below < above) ? small - 1 : small + 1
            }
            let (low, high) = (min(small, neighbour), max(small, neighbour))
            runs[low] = runs[low].lowerBound...runs[high].upperBound
            runs.remove(at: high)
        }
        let labels = assessment.ageBandLabels
        let bandLabels = runs.map { run in
            run.count == 1 ? labels[run.lowerBound]
                : "\(labels[run.lowerBound].split(separator: "–", omittingEmptySubsequences: false)[0])–\(labels[run.upperBound].split(separator: "–", omittingEmptySubsequences: false)[1])"
        }

        // Districts: the small ones join (other), and while (other) is small, the smallest joins it.
        func districtTotal(_ index: Int) -> Counts { sum((0..<baseBands).map { base[$0][index] }) }
        var other = Set(codes.indices.filter { districtTotal($0).isSmall(k) })
        while !other.isEmpty, sum(other.map(districtTotal)).isSmall(k),
              let smallest = codes.indices.filter({ !other.contains($0) }).min(by: { (districtTotal($0).participants, $0) < (districtTotal($1).participants, $1) }) {
            other.insert(smallest)
        }
        var columns = codes.indices.filter { !other.contains($0) }.map { [$0] }
        if !other.isEmpty { columns.append(other.sorted()) }
        let districtLabels = codes.indices.filter { !other.contains($0) }.map { codes[$0] } + (other.isEmpty ? [] : [otherDistricts])

        var grid = Array(repeating: Array(repeating: Counts(), count: columns.count + 1), count: runs.count + 1)
        for (row, run) in runs.enumerated() {
            for (column, members) in columns.enumerated() {
                let cell = sum(run.flatMap { band in members.map { base[band][$0] } })
                for r in [row, runs.count] { for c in [column, columns.count] { grid[r][c].add(cell) } }
            }
        }
        return ResidentsTable(bands: bandLabels, districts: districtLabels, grid: grid, hidden: suppressed(grid, k: k))
    }

    /// The cells to suppress of a table whose margins are no small groups (step 2 above); every cell
    /// when the grand total is one.
    static func suppressed(_ grid: [[Counts]], k: Int64) -> Set<Cell> {
        let rows = grid.count - 1, columns = grid[0].count - 1
        let everything = Set((0...rows).flatMap { row in (0...columns).map { Cell(row: row, column: $0) } })
        if grid[rows][columns].isSmall(k) { return everything }
        let small = (0..<rows).flatMap { row in (0..<columns).filter { grid[row][$0].isSmall(k) }.map { Cell(row: row, column: $0) } }
        guard !small.isEmpty else { return [] }
        var inRows = Set(small.map(\.row)), inColumns = Set(small.map(\.column))
        func part(row: Int) -> Counts { inColumns.reduce(into: Counts()) { $0.add(grid[row][$1]) } }
        func part(column: Int) -> Counts { inRows.reduce(into: Counts()) { $0.add(grid[$1][column]) } }
        /// The row (or column) outside the rectangle that hides the fewest residents joining it, and
        /// some: a line whose part would be 0 shows (its total less its shown cells) that its cells
        /// there are 0, so it would protect nothing. An empty one only when no other is left.
        func cheapestRow() -> Int? {
            let candidates = (0..<rows).filter { !inRows.contains($0) && grid[$0][columns].participants > 0 }
            return (candidates.filter { part(row: $0).participants > 0 }.isEmpty ? candidates : candidates.filter { part(row: $0).participants > 0 })
                .min { (part(row: $0).participants, $0) < (part(row: $1).participants, $1) }
        }
        func cheapestColumn() -> Int? {
            let candidates = (0..<columns).filter { !inColumns.contains($0) && grid[rows][$0].participants > 0 }
            return (candidates.filter { part(column: $0).participants > 0 }.isEmpty ? candidates : candidates.filter { part(column: $0).participants > 0 })
                .min { (part(column: $0).participants, $0) < (part(column: $1).participants, $1) }
        }
        let allInner = Set((0..<rows).flatMap { row in (0..<columns).map { Cell(row: row, column: $0) } })
        while true {
            let needsRow = inRows.count < 2 || inColumns.contains { part(column: $0).isSmall(k) }
            let needsColumn = inColumns.count < 2 || inRows.contains { part(row: $0).isSmall(k) }
            if !needsRow && !needsColumn { break }
            if needsColumn {
                guard let column = cheapestColumn() else { return allInner }
                inColumns.insert(column)
            } else {
                guard let row = cheapestRow() else { return allInner }
                inRows.insert(row)
            }
        }
        return Set(inRows.flatMap { row in inColumns.map { Cell(row: row, column: $0) } })
    }
}
