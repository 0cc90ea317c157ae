/// The indicators Ayumi measures each month, for the KGI / outcome / output table the city
/// explains to citizens (`ayumi report kpis`).
public enum KPI: String, Sendable, Hashable, Codable, CaseIterable {
    /// Output: residents enrolled by the month's end.
    case enrolled
    /// Output: enrolled residents with at least one accepted event in the month, in tenths of a percent.
    case activeRate = "active-rate"
    /// Output: points awarded in the month.
    case pointsAwarded = "points-awarded"
    /// Output: redemptions in the month.
    case redemptions
    /// Outcome: average steps a day, over the days residents reported a walk.
    case averageDailySteps = "average-daily-steps"
    /// Outcome: walkers whose average over their days reached 8,000 steps, in tenths of a percent.
    case reaching8000 = "reaching-8000"
    /// Outcome: transit rides per active resident, in hundredths.
    case ridesPerParticipant = "rides-per-participant"
    /// Outcome: visits to the downtown zones in the month (`downtownZones` of benefits.yaml; every
    /// zone in a program without it).
    case downtownVisits = "downtown-visits"

    public var isOutcome: Bool { [.averageDailySteps, .reaching8000, .ridesPerParticipant, .downtownVisits].contains(self) }

    /// Values are integers: rates in tenths of a percent, rides per participant in hundredths.
    public var scale: Int64 {
        switch self {
        case .activeRate, .reaching8000: 10
        case .ridesPerParticipant: 100
        default: 1
        }
    }

    public var name: LocalizedText {
        switch self {
        case .enrolled: LocalizedText(ja: "登録者数", en: "Enrolled residents")
        case .activeRate: LocalizedText(ja: "活動率（%）", en: "Active rate (%)")
        case .pointsAwarded: LocalizedText(ja: "付与ポイント", en: "Points awarded")
        case .redemptions: LocalizedText(ja: "利用件数", en: "Redemptions")
        case .averageDailySteps: LocalizedText(ja: "1日平均歩数", en: "Average daily steps")
        case .reaching8000: LocalizedText(ja: "8,000歩達成者の割合（%）", en: "Walkers reaching 8,000 steps (%)")
        case .ridesPerParticipant: LocalizedText(ja: "参加者1人あたり公共交通利用回数", en: "Transit rides per participant")
        case .downtownVisits: LocalizedText(ja: "中心市街地への来訪数", en: "Downtown visits")
        }
    }
}

/// A target the city set for an indicator: its value (in the indicator's own unit: percent for
/// rates, rides for rides per participant) and the year it is for.
public struct KPITarget: Sendable, Hashable, Codable {
    public var kpi: KPI
    /// Scaled as the indicator's values are (`KPI.scale`).
    public var value: Int64
    public var year: Int
    public init(kpi: KPI, value: Int64, year: Int) {
        self.kpi = kpi
        self.value = value
        self.year = year
    }
}
