import AyumiCore

extension BenefitReport {
    /// The party sections as a city official reads them: each figure's name, unit and basis in
    /// Japanese and English around the values `Measures` and `Costs` computed.
    struct Wording {
        let measures: Measures
        let costs: Costs
        /// The residents' table's grand total.
        let all: Counts
        let redemptions: (count: Int64, residents: Int64)
        let assessment: Assessment
        let yenPerPoint: Int64

        var parties: [PartySection] { [residents, government, transit, merchants] }

        func figure(_ id: String, _ ja: String, _ en: String, _ value: Int64?, _ unit: Unit, _ basisJa: String, _ basisEn: String,
                    none: Bool = false) -> Figure {
            Figure(id: id, name: LocalizedText(ja: ja, en: en), value: none ? nil : value, suppressed: !none && value == nil, unit: unit,
                   basis: LocalizedText(ja: basisJa, en: basisEn))
        }

        func costPaid(_ party: Party) -> Figure {
            figure("cost-paid", "事業費の負担額", "Program cost paid", costs.paid(party), .yen, "負担者として利用されたポイントの円換算と運営費の負担分",
                   "Yen of the points redeemed from its sponsors' lots, plus its share of the operating cost")
        }

        func pointsRedeemed() -> Figure {
            figure("points-redeemed", "利用ポイント", "Points redeemed", costs.program?.redeemed?.points, .points, "期間の利用から期間の返金を引いたもの",
                   "Redeemed in the period less refunds made in it")
        }

        /// Points as the ledger summary's program row shows them (the same figures, suppressed alike).
        var residents: PartySection {
            PartySection(party: .residents, figures: [
                figure("participants", "参加者数", "Participants", measures.shownIf(all.participants, all.participants), .residents,
                       "期間の末日までに登録した住民", "Residents enrolled by the period's last day"),
                figure("active", "活動した参加者数", "Active participants", measures.shownIf(all.active, all.active, all.participants - all.active), .residents,
                       "期間に1件以上の有効な活動がある参加者", "Participants with at least one accepted event in the period"),
                figure("points-earned", "獲得ポイント", "Points earned", costs.program?.awarded?.points, .points, "期間に付与されたポイント", "Points awarded in the period"),
                pointsRedeemed(),
                figure("yen-received", "受け取った価値", "Value received", costs.program?.redeemed?.yen, .yen,
                       "利用ポイント × 1ポイントの円換算額（\(yenPerPoint)円）", "Points redeemed × yen per point (\(yenPerPoint))"),
            ])
        }

        var government: PartySection {
            let (m, tally, n) = (measures, measures.tally, assessment.baselineDays)
            let shown = m.walkersShown, nobody = tally.walkers == 0
            return PartySection(party: .government, figures: [
                figure("measured-walkers", "歩数の比較対象者", "Walkers measured", m.shownIf(tally.walkers, tally.walkers, tally.measured - tally.walkers), .residents,
                       "登録から\(n)日間（基準期間）と期間の基準期間後の両方に歩数の記録がある参加者", "Participants with walks in their first \(n) days (their baseline) and in the period after them"),
                figure("baseline-steps", "基準期間の1日平均歩数", "Baseline steps a day", shown ? m.baselineMean : nil, .steps,
                       "各人の基準期間の歩数 ÷ 記録日数 の平均", "Mean over walkers of their baseline steps ÷ their baseline walk days", none: nobody),
                figure("period-steps", "期間の1日平均歩数", "Steps a day in the period", shown ? m.afterMean : nil, .steps,
                       "各人の期間（基準期間後）の歩数 ÷ 記録日数 の平均", "Mean over walkers of their steps ÷ walk days in the period after their baseline",
                       none: nobody),
                figure("additional-steps", "1日あたり歩数の増加", "Additional steps a day", shown ? m.changeMean : nil, .steps,
                       "各人の（期間の平均 − 基準期間の平均）の平均", "Mean over walkers of (period average − baseline average)", none: nobody),
                figure("additional-step-days", "増加歩数の延べ", "Additional step-days", shown ? tally.stepDays : nil, .stepDays,
                       "各人の（期間の平均 − 基準期間の平均）× 期間の基準期間後の日数、の合計", "Sum over walkers of (period average − baseline average) × the period's days after their baseline"),
                figure("medical-cost-saved", "医療費抑制額（推計）", "Medical cost saved (estimate)", shown ? m.medical : nil, .yen,
                       "増加歩数の延べ × \(assessment.medicalCost.value)円（円未満切り捨て）", "Additional step-days × ¥\(assessment.medicalCost.value) (fractions of a yen dropped)"),
                costPaid(.government),
            ])
        }

        var transit: PartySection {
            let (m, tally, n) = (measures, measures.tally, assessment.baselineDays)
            return PartySection(party: .transit, figures: [
                figure("riders", "乗車した参加者数", "Participants riding", m.shownIf(tally.riders, tally.riders, all.participants - tally.riders), .residents, "期間に1回以上乗車した参加者", "Participants with at least one accepted tap in the period"),
                figure("rides", "参加者の乗車回数", "Rides by participants", m.shownIf(Int64(tally.rides.values.reduce(0, +)), tally.riders), .rides, "期間の参加者の有効なタッチ数", "Accepted taps by participants in the period"),
                figure("fare-revenue", "運賃収入（推計）", "Fare revenue (estimate)", m.faresShown ? m.fareRevenue : nil, .yen, "乗車回数 × 運賃表の運賃（種別ごと）", "Rides × the fare table's fare of their mode"),
                figure("measured-participants", "基準期間と比較できる参加者数", "Participants measured", m.shownIf(tally.measured, tally.measured, all.participants - tally.measured), .residents,
                       "基準期間（登録から\(n)日間）に歩数の記録があり、それが期間の末日より前に終わった参加者",
                       "Participants with walks reported in their first \(n) days (their baseline), which ended before the period's last day"),
                figure("additional-rides", "乗車回数の増加", "Additional rides", m.large(tally.measured, tally.measuredRiders) ? m.extraRideCount : nil, .rides,
                       "各人の（期間の基準期間後の乗車 − 基準期間の乗車 ÷ \(n) × その日数）の合計", "Sum over participants measured of (rides after their baseline − baseline rides ÷ \(n) × those days)"),
                figure("additional-fare-revenue", "運賃収入の増加（推計）", "Additional fare revenue (estimate)", m.benefit(.transit), .yen,
                       "種別ごとの乗車回数の増加 × 運賃（円未満切り捨て）", "Additional rides of each mode × its fare (fractions of a yen dropped)"),
                costPaid(.transit),
            ])
        }

        var merchants: PartySection {
            let (m, tally, n, spend) = (measures, measures.tally, assessment.baselineDays, assessment.visitSpend.value)
            return PartySection(party: .merchants, figures: [
                figure("redemptions", "ポイント利用件数", "Redemptions", m.shownIf(redemptions.count, redemptions.residents), .redemptions, "期間の利用件数", "Redemptions in the period"),
                pointsRedeemed(),
                figure("yen-redeemed", "ポイントによる売上", "Sales paid with points", costs.program?.redeemed?.yen, .yen, "利用ポイント × 1ポイントの円換算額（負担者が加盟店に支払う）", "Points redeemed × yen per point (paid to the shops by the sponsors)"),
                figure("visitors", "中心市街地に来訪した参加者数", "Participants visiting downtown", m.shownIf(tally.visitors, tally.visitors, all.participants - tally.visitors), .residents, "期間に1回以上来訪した参加者", "Participants with at least one accepted visit in the period"),
                figure("visits", "中心市街地への来訪回数", "Downtown visits", m.shownIf(tally.visits, tally.visitors), .visits, "期間の参加者の有効な来訪数", "Accepted visits by participants in the period"),
                figure("additional-visits", "来訪回数の増加", "Additional visits", m.large(tally.measured, tally.measuredVisitors) ? m.extraVisitCount : nil, .visits,
                       "各人の（期間の基準期間後の来訪 − 基準期間の来訪 ÷ \(n) × その日数）の合計", "Sum over participants measured of (visits after their baseline − baseline visits ÷ \(n) × those days)"),
                figure("additional-sales", "来訪増加による売上（推計）", "Sales from additional visits (estimate)", m.benefit(.merchants), .yen,
                       "来訪回数の増加 × 1回あたり購買額 \(spend)円（円未満切り捨て）", "Additional visits × ¥\(spend) spent a visit (fractions of a yen dropped)"),
                costPaid(.merchants),
            ])
        }
    }
}
