/// RFC 4180 comma-separated values, with the line and column of every field for diagnostics.
enum CSV {
    struct Field {
        var text: String
        var line: Int
        var column: Int
    }

    struct Row {
        var line: Int
        var fields: [Field]
    }

    /// Fields may be quoted (`"…"`, a quote inside written twice) and then hold commas and line
    /// breaks; lines end in CRLF or LF.
    static func rows(_ text: String, file: String) throws(RulesDiagnostic) -> [Row] {
        var rows: [Row] = []
        var fields: [Field] = []
        var current = "", quoted = false, afterQuote = false
        var line = 1, column = 1, fieldLine = 1, fieldColumn = 1, rowLine = 1
        var characters = Array(text)
        if characters.last != "\n" { characters.append("\n") }
        var index = 0
        func endField() {
            fields.append(Field(text: current, line: fieldLine, column: fieldColumn))
            current = ""
            afterQuote = false
        }
        while index < characters.count {
            let character = characters[index]
            if quoted {
                if character == "\"" {
                    if index + 1 < characters.count, characters[index + 1] == "\"" {
                        current.append("\"")
                        index += 1
                        column += 1
                    } else {
                        quoted = false
                        afterQuote = true
                    }
                } else {
                    current.append(character)
                    if character == "\n" || character == "\r\n" {
                        line += 1
                        column = 0
                    }
                }
            } else {
                switch character {
                case "\"" where current.isEmpty && !afterQuote:
                    quoted = true
                case ",":
                    endField()
                    fieldLine = line
                    fieldColumn = column + 1
                case "\n", "\r\n", "\r":
                    endField()
                    rows.append(Row(line: rowLine, fields: fields))
                    fields = []
                    line += 1
                    column = 0
                    rowLine = line
                    fieldLine = line
                    fieldColumn = 1
                default:
                    if afterQuote {
                        throw RulesDiagnostic(file: file, line: line, column: column, message: "a quoted field must end at a comma or a line end")
                    }
                    current.append(character)
                }
            }
            index += 1
            column += 1
        }
        if quoted { throw RulesDiagnostic(file: file, line: fieldLine, column: fieldColumn, message: "a quoted field is not closed") }
        return rows
    }
}
