import AyumiCore

// What the ledger summary and the settlement make of the ledger's movements, in pure code over
// what any store's reader returns: a refund counts against redemptions on the day it is made, as
// points a shop gave back, under the redemption's resident; one of a redemption from an earlier
// period adjusts this period's statement.

extension BeneficiaryFacts {
    /// Per measure: the total, each sponsor's, rule's and merchant's points with the residents
    /// behind them, and which sponsor funded which rule.
    public init(_ movements: [LedgerMovement]) {
        var totals: [Measure: (points: Int64, residents: Set<Int64>)] = [:]
        var sections: [Measure: [Section: [String: (points: Int64, residents: Set<Int64>)]]] = [:]
        var links: [Measure: Set<Link>] = [:]
        for movement in movements {
            let (measure, points): (Measure, Int64) = switch movement.kind {
            case .awarded: (.awarded, movement.points)
            case .redeemed: (.redeemed, movement.points)
            case .refunded: (.redeemed, -movement.points)
            case .expired: (.expired, movement.points)
            }
            totals[measure, default: (0, [])].points += points
            totals[measure, default: (0, [])].residents.insert(movement.resident)
            var keys: [(Section, String)] = [(.rule, movement.rule), (.sponsor, movement.sponsor)]
            if let merchant = movement.merchant { keys.append((.merchant, merchant)) }
            for (section, key) in keys {
                sections[measure, default: [:]][section, default: [:]][key, default: (0, [])].points += points
                sections[measure, default: [:]][section, default: [:]][key, default: (0, [])].residents.insert(movement.resident)
            }
            links[measure, default: []].insert(Link(rule: movement.rule, sponsor: movement.sponsor))
        }
        var cells: [Measure: [Section: [String: Cell]]] = [:]
        var residents: [Measure: [Section: [String: Set<Int64>]]] = [:]
        for measure in Measure.allCases {
            for section in Section.allCases where Self.applies(measure, to: section) {
                let rows = sections[measure]?[section] ?? [:]
                cells[measure, default: [:]][section] = rows.mapValues { Cell(points: $0.points, residents: Int64($0.residents.count)) }
                residents[measure, default: [:]][section] = rows.mapValues(\.residents)
            }
        }
        self.init(totals: Dictionary(uniqueKeysWithValues: Measure.allCases.map { measure in
                      (measure, Cell(points: totals[measure]?.points ?? 0, residents: Int64(totals[measure]?.residents.count ?? 0)))
                  }),
                  cells: cells, links: Dictionary(uniqueKeysWithValues: Measure.allCases.map { ($0, links[$0] ?? []) }), residents: residents)
    }
}

extension SettlementFact {
    /// Each merchant's points from each sponsor's lots: redeemed, refunded of the period's
    /// redemptions, and refunded of earlier ones (an adjustment).
    public static func make(_ movements: [LedgerMovement]) -> [SettlementFact] {
        var points: [SettlementFact: Int64] = [:]
        for movement in movements {
            guard let merchant = movement.merchant else { continue }
            let kind: Kind
            switch movement.kind {
            case .redeemed: kind = .redemption
            case .refunded: kind = movement.ofEarlierRedemption ? .adjustment : .refund
            case .awarded, .expired: continue
            }
            points[SettlementFact(merchantID: merchant, sponsorID: movement.sponsor, kind: kind, points: 0), default: 0] += movement.points
        }
        return points.map { key, sum in
            var fact = key
            fact.points = sum
            return fact
        }.sorted { ($0.merchantID, $0.sponsorID, $0.kind.order) < ($1.merchantID, $1.sponsorID, $1.kind.order) }
    }
}

extension SettlementFact.Kind {
    var order: Int {
        switch self {
        case .redemption: 0
        case .refund: 1
        case .adjustment: 2
        }
    }
}

extension ReportReader {
    /// Points and residents per sponsor, rule and merchant for a period of local days, from what the
    /// ledger holds (rules and sponsors no longer in the ruleset included).
    public func beneficiaryFacts(from: LocalDate, to: LocalDate) throws -> BeneficiaryFacts {
        BeneficiaryFacts(try ledgerMovements(from: from, to: to))
    }

    /// Each merchant's points from each sponsor's lots on the local days `from...to`: redeemed, and
    /// refunded (of redemptions of those days, or of earlier ones), with its distinct redemptions and
    /// refunds.
    public func settlementFacts(from: LocalDate, to: LocalDate) throws -> (facts: [SettlementFact], counts: [String: SettlementCounts]) {
        (SettlementFact.make(try ledgerMovements(from: from, to: to)), try merchantCounts(from: from, to: to))
    }
}
