/// The bounds of every number in `Rules/` and `Merchants/`, checked by `ayumi rules check` (and at
/// every start). With these, no arithmetic on rule values can overflow inside a write: the largest
/// award times the largest total funding weight is about 3.2 × 10^12, far below `Int64.max`
/// (9.2 × 10^18), and a city's whole ledger summed in yen stays below 10^15. The README's rules
/// section lists the same table.
public enum Bounds {
    public static let yenPerPoint: ClosedRange<Int64> = 1...1_000
    public static let pointExpiryMonths: ClosedRange<Int64> = 1...120
    public static let stepsPerDay: ClosedRange<Int64> = 1...1_000_000
    public static let eventAgeDays: ClosedRange<Int64> = 1...366
    /// Shorter than 30 s leaves no time to scan; longer than an hour invites screenshots.
    public static let redemptionCodeTTLSeconds: ClosedRange<Int64> = 30...3_600
    /// At least 2: a report that shows single residents is not a privacy setting a city may choose.
    public static let reportGroupSize: ClosedRange<Int64> = 2...1_000

    public static let fixedPoints: ClosedRange<Int64> = 1...10_000
    public static let bandPoints: ClosedRange<Int64> = 1...10_000
    public static let pointsPerDay: ClosedRange<Int64> = 1...100_000
    public static let countPerDay: ClosedRange<Int64> = 1...10_000
    /// A limit in `limits:` may be a program's whole budget for a rule (everyone, a month).
    public static let limitPoints: ClosedRange<Int64> = 1...1_000_000_000
    public static let limitCount: ClosedRange<Int64> = 1...1_000_000_000
    /// A streak of up to a year; milestones up to a billion steps or a hundred thousand rides.
    public static let streakDays: ClosedRange<Int64> = 2...366
    public static let milestoneSteps: ClosedRange<Int64> = 1_000...1_000_000_000
    public static let milestoneRides: ClosedRange<Int64> = 1...100_000
    /// Prizes in one draw.
    public static let drawPrizes: ClosedRange<Int64> = 1...10_000
    /// Points held as pending at most a year.
    public static let pendingDays: ClosedRange<Int64> = 1...365
    public static let refundDays: ClosedRange<Int64> = 0...366
    /// A campaign pays from its rules' own points (100%) to ten times them.
    public static let campaignPercent: ClosedRange<Int64> = 100...1_000
    public static let fundingWeight: ClosedRange<Int64> = 1...1_000_000
    public static let sponsorsPerRuleMax = 32
    /// The most one event can earn under one rule, whatever its caps: a banded rule without a
    /// limit in points must not be able to award more than this for a walk of `stepsPerDayMax`.
    public static let pointsPerAwardMax: Int64 = 100_000
    /// The beneficiary report's yen figures: a fare, a visit's spend, a coefficient per step.
    public static let yen: ClosedRange<Int64> = 0...1_000_000
    /// A layer of the operating cost, per month (a hundred billion yen).
    public static let yenPerMonth: ClosedRange<Int64> = 0...100_000_000_000
}
