/// The parties the Smart City Guidebook asks a program to show the benefits of, and to share its
/// cost between. Residents receive the points; the city, the transit operators and the shopping
/// street are the parties that may pay (a sponsor's `kind` says which it is).
public enum Party: String, Sendable, Hashable, Codable, CaseIterable {
    case residents, government, transit, merchants

    /// The parties a cost is shared between: residents receive the points, which are the cost.
    public static let payers: [Party] = [.government, .transit, .merchants]

    public var name: LocalizedText {
        switch self {
        case .residents: LocalizedText(ja: "住民", en: "Residents")
        case .government: LocalizedText(ja: "市（行政）", en: "The city (government)")
        case .transit: LocalizedText(ja: "交通事業者", en: "Transit operators")
        case .merchants: LocalizedText(ja: "加盟店・商店街", en: "Merchants and the shopping street")
        }
    }
}

/// A decimal figure as the city wrote it ("0.061"), kept exactly: `units` of 10^-`decimals`.
public struct ExactDecimal: Sendable, Hashable, Codable, CustomStringConvertible {
    public var units: Int64
    public var decimals: Int

    public init(units: Int64, decimals: Int) {
        self.units = units
        self.decimals = decimals
    }

    /// 10^decimals.
    public var denominator: Int64 {
        var value: Int64 = 1
        for _ in 0..<decimals { value *= 10 }
        return value
    }

    public var description: String {
        guard decimals > 0 else { return String(units) }
        let digits = String(units.magnitude)
        let padded = String(repeating: "0", count: max(0, decimals + 1 - digits.count)) + digits
        return (units < 0 ? "-" : "") + padded.dropLast(decimals) + "." + padded.suffix(decimals)
    }
}

/// What the beneficiary report multiplies the ledger's and the events' counts by, as the city
/// entered it in `Rules/benefits.yaml`, `Rules/fares.yaml` and `Rules/costs.yaml`. Every figure
/// carries its source, and the report prints them beside its results.
public struct Assessment: Sendable, Hashable, Codable {
    /// A coefficient and where it comes from.
    public struct Coefficient: Sendable, Hashable, Codable {
        public var value: ExactDecimal
        public var source: LocalizedText

        public init(value: ExactDecimal, source: LocalizedText) {
            self.value = value
            self.source = source
        }
    }

    /// A layer of the operating cost, as the Guidebook's cost table has them (service, data
    /// platform, data), and the percent each party pays of it today.
    public struct CostLayer: Sendable, Hashable, Codable {
        public var id: String
        public var name: LocalizedText
        public var yenPerMonth: Int64
        /// Percent by payer, summing to 100, in `Party.payers` order.
        public var paidBy: [Party: Int64]

        public init(id: String, name: LocalizedText, yenPerMonth: Int64, paidBy: [Party: Int64]) {
            self.id = id
            self.name = name
            self.yenPerMonth = yenPerMonth
            self.paidBy = paidBy
        }
    }

    /// Yen of medical cost saved per additional step per person per day.
    public var medicalCost: Coefficient
    /// Each participant's own baseline: their first this many days from enrolment.
    public var baselineDays: Int
    /// Yen a downtown visit brings the shops (a visitor survey's average spend).
    public var visitSpend: Coefficient
    /// The zones whose visits are downtown visits (the shopping street's).
    public var downtownZones: [String]
    /// Lower bounds of the age bands after the first, ascending: [40, 65, 75] is under 40, 40–64, 65–74, 75 and over.
    public var ageBands: [Int]
    /// Yen per ride: by mode, and `defaultFare` for a mode the table does not list.
    public var fares: [String: Int64]
    public var defaultFare: Int64
    public var faresSource: LocalizedText
    public var costLayers: [CostLayer]

    public init(medicalCost: Coefficient, baselineDays: Int, visitSpend: Coefficient, downtownZones: [String], ageBands: [Int],
                fares: [String: Int64], defaultFare: Int64, faresSource: LocalizedText, costLayers: [CostLayer]) {
        self.medicalCost = medicalCost
        self.baselineDays = baselineDays
        self.visitSpend = visitSpend
        self.downtownZones = downtownZones
        self.ageBands = ageBands
        self.fares = fares
        self.defaultFare = defaultFare
        self.faresSource = faresSource
        self.costLayers = costLayers
    }

    public func fare(mode: String) -> Int64 { fares[mode] ?? defaultFare }

    /// The zones whose visits the reports count: nil (every zone) when none is named.
    public var visitZones: [String]? { downtownZones.isEmpty ? nil : downtownZones }

    enum CodingKeys: String, CodingKey {
        case medicalCost, baselineDays, visitSpend, downtownZones, ageBands, fares, defaultFare, faresSource, costLayers
    }

    /// A version stored before `downtownZones` counted visits to every zone: it reads as none named
    /// (the reports then count every zone).
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        medicalCost = try container.decode(Coefficient.self, forKey: .medicalCost)
        baselineDays = try container.decode(Int.self, forKey: .baselineDays)
        visitSpend = try container.decode(Coefficient.self, forKey: .visitSpend)
        downtownZones = try container.decodeIfPresent([String].self, forKey: .downtownZones) ?? []
        ageBands = try container.decode([Int].self, forKey: .ageBands)
        fares = try container.decode([String: Int64].self, forKey: .fares)
        defaultFare = try container.decode(Int64.self, forKey: .defaultFare)
        faresSource = try container.decode(LocalizedText.self, forKey: .faresSource)
        costLayers = try container.decode([CostLayer].self, forKey: .costLayers)
    }

    /// The band of an age: its index, and its label ("40–64", "75–", "–39").
    public func ageBand(_ age: Int) -> Int { ageBands.filter { $0 <= age }.count }

    public var ageBandLabels: [String] {
        (0...ageBands.count).map { index in
            let low = index == 0 ? nil : ageBands[index - 1]
            let high = index == ageBands.count ? nil : ageBands[index] - 1
            return "\(low.map(String.init) ?? "")–\(high.map(String.init) ?? "")"
        }
    }
}

extension Party: CodingKeyRepresentable {}
