/// Bar charts as inline SVG for the printable pages: integer coordinates only, so the same figures
/// always draw the same bytes, and no script.
enum Chart {
    struct Series {
        var name: String
        var color: String
    }

    /// A group of bars (one per series) under one label; a nil value draws no bar and reads its
    /// mark: X (suppressed) unless `absent` says otherwise (- for a figure there is none of).
    struct Group {
        var label: String
        var values: [Int64?]
        var absent: [String]? = nil
    }

    /// A dashed horizontal line across the chart (a target, a baseline), labelled.
    struct Line {
        var value: Int64
        var label: String
    }

    /// - Parameter format: the label of a bar's value.
    static func bars(title: String, series: [Series], groups: [Group], line: Line? = nil, format: (Int64) -> String = { String($0) }) -> String {
        // Narrower bars when there are many groups (a month of days), so the page still prints.
        let barWidth = groups.count > 12 ? 14 : (series.count == 1 ? 40 : 24)
        let groupWidth = barWidth * series.count + (groups.count > 12 ? 8 : 20)
        let values = groups.flatMap(\.values).compactMap { $0 } + [line?.value ?? 0]
        let top = max(1, values.max() ?? 1), bottom = min(0, values.min() ?? 0)
        let legend = series.count > 1 ? 26 : 0
        let width = max(40 + groupWidth * max(1, groups.count), legend > 0 ? 40 + 150 * series.count : 0), height = 140 + legend
        // The zero line sits where the smallest value leaves room for bars below it.
        func y(_ value: Int64) -> Int64 { Int64(legend) + 10 + (top - value) * 100 / (top - bottom) }
        let zero = y(0)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(Markup.escape(title))\">"
        if series.count > 1 {
            for (index, item) in series.enumerated() {
                let x = 40 + 150 * index
                svg += "<rect x=\"\(x)\" y=\"2\" width=\"10\" height=\"10\" fill=\"\(item.color)\"/><text x=\"\(x + 14)\" y=\"11\" font-size=\"10\">\(Markup.escape(item.name))</text>"
            }
        }
        svg += "<line x1=\"30\" y1=\"\(zero)\" x2=\"\(width - 5)\" y2=\"\(zero)\" stroke=\"#444\"/>"
        for (groupIndex, group) in groups.enumerated() {
            let left = 40 + groupWidth * groupIndex
            for (index, value) in group.values.enumerated() {
                let x = left + barWidth * index, middle = x + barWidth / 2
                if let value {
                    let (upper, lower) = (min(y(value), zero), max(y(value), zero))
                    svg += "<rect x=\"\(x)\" y=\"\(upper)\" width=\"\(barWidth - 2)\" height=\"\(lower - upper)\" fill=\"\(series[index].color)\"/>"
                    // Side by side, every other bar's label sits a line higher, so wide numbers do not run together.
                    let lift = series.count > 1 ? 10 * (index % 2) : 0
                    svg += "<text x=\"\(middle)\" y=\"\(upper - 3 - Int64(lift))\" font-size=\"\(groups.count > 12 ? 6 : 9)\" text-anchor=\"middle\">\(Markup.escape(format(value)))</text>"
                } else {
                    svg += "<text x=\"\(middle)\" y=\"\(zero - 5)\" font-size=\"10\" text-anchor=\"middle\">\(Markup.escape(group.absent?[index] ?? "X"))</text>"
                }
            }
            let center = left + barWidth * series.count / 2
            svg += "<text x=\"\(center)\" y=\"\(height - 8)\" font-size=\"\(groups.count > 12 ? 7 : 10)\" text-anchor=\"middle\">\(Markup.escape(group.label))</text>"
        }
        if let line {
            svg += "<line x1=\"30\" y1=\"\(y(line.value))\" x2=\"\(width - 5)\" y2=\"\(y(line.value))\" stroke=\"#c33\" stroke-dasharray=\"4 3\"/>"
            svg += "<text x=\"32\" y=\"\(y(line.value) - 3)\" font-size=\"9\" fill=\"#c33\">\(Markup.escape(line.label))</text>"
        }
        return svg + "</svg>"
    }
}
