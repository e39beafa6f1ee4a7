// Datasets from CSV tables: every column but one is a numeric feature; the
// remaining column is a class label (integer ids or category names) or a
// regression target. Values must be finite Float32 numbers; every error names
// the file, the line and the column.
import CohortCore

/// A classification dataset read from CSV, with the names of its columns and classes.
public struct CSVClassification: Sendable {
    /// The samples: features of shape `[featureNames.count]`, labels in `0..<classNames.count`.
    public let dataset: ClassificationDataset
    /// Names of the feature columns, in the order of each sample's features.
    public let featureNames: [String]
    /// Name of the label column.
    public let labelColumn: String
    /// Class names by id: the sorted distinct values of a categorical label column,
    /// or `"0"`, `"1"`, … up to the largest id for integer labels.
    public let classNames: [String]
    /// Whether the label column held names (mapped to ids in sorted order) rather than integer ids.
    public let labelsWereCategorical: Bool
}

/// A regression dataset read from CSV: numeric features and one numeric target per sample.
public struct CSVRegression: Sendable, Equatable {
    /// Features, row-major `[count, featureNames.count]`.
    public let features: [Float]
    /// One target value per sample.
    public let targets: [Float]
    /// Names of the feature columns, in the order of each sample's features.
    public let featureNames: [String]
    /// Name of the target column.
    public let targetName: String

    /// Number of samples.
    public var count: Int { targets.count }
    /// Number of features per sample.
    public var featureCount: Int { featureNames.count }
}

/// Builds datasets from CSV files with a header row and numeric feature columns.
public enum CSVDataset {
    /// Reads a classification dataset: every column except `labelColumn` (default: the last) is a feature.
    /// Labels are either all integer ids ≥ 0 (`2` and `2.0` both mean class 2; `numClasses` is the largest
    /// id + 1) or all names (surrounding spaces ignored), mapped to ids in sorted order.
    /// - Parameters:
    ///   - name: the dataset's name; default: the file name without directory and extension.
    /// - Throws: `CohortError.badFile(path:, _)` naming the line and column of the first problem: unreadable
    ///   or malformed CSV (see `CSVTable.parse`), an unknown label column, a feature value that is empty,
    ///   non-numeric, NaN, infinite or beyond Float range, or a label that is empty, negative, not an
    ///   integer, or a name in a column of numbers (or the reverse).
    public static func classification(path: String, labelColumn: String? = nil, name: String? = nil,
                                      delimiter: Character = ",") throws -> CSVClassification {
        try classification(table: try CSVTable.read(path: path, delimiter: delimiter), labelColumn: labelColumn, name: name)
    }

    /// `classification(path:…)` on a table already read.
    /// - Throws: `CohortError.badFile(path:, _)` as `classification(path:…)` does.
    public static func classification(table: CSVTable, labelColumn: String? = nil, name: String? = nil) throws -> CSVClassification {
        let (labelIndex, featureIndices) = try split(table, target: labelColumn, role: "label")
        let features = try numericFeatures(table, featureIndices)
        let (labels, classNames, categorical) = try parseLabels(table, labelIndex)
        var dataset = try ClassificationDataset(name: name ?? fileStem(table.path), features: features, labels: labels,
                                                featureShape: [featureIndices.count], numClasses: classNames.count)
        dataset.preparation["class_names"] = jsonStringArray(classNames)
        dataset.preparation["feature_names"] = jsonStringArray(featureIndices.map { table.columns[$0] })   // for `cohort predict`'s CSV columns
        return CSVClassification(dataset: dataset, featureNames: featureIndices.map { table.columns[$0] },
                                 labelColumn: table.columns[labelIndex], classNames: classNames,
                                 labelsWereCategorical: categorical)
    }

    /// Reads a regression dataset: every column except `targetColumn` (default: the last) is a feature.
    /// - Throws: `CohortError.badFile(path:, _)` naming the line and column of the first problem: unreadable or
    ///   malformed CSV, an unknown target column, or a value that is empty, non-numeric, NaN, infinite or beyond Float range.
    public static func regression(path: String, targetColumn: String? = nil, delimiter: Character = ",") throws -> CSVRegression {
        try regression(table: try CSVTable.read(path: path, delimiter: delimiter), targetColumn: targetColumn)
    }

    /// `regression(path:…)` on a table already read.
    /// - Throws: `CohortError.badFile(path:, _)` as `regression(path:…)` does.
    public static func regression(table: CSVTable, targetColumn: String? = nil) throws -> CSVRegression {
        let (targetIndex, featureIndices) = try split(table, target: targetColumn, role: "target")
        return CSVRegression(features: try numericFeatures(table, featureIndices),
                             targets: try numericFeatures(table, [targetIndex]),
                             featureNames: featureIndices.map { table.columns[$0] }, targetName: table.columns[targetIndex])
    }

    /// Integer labels must be below this (65536 classes at most).
    static let maxClassID = 1 << 16

    // MARK: - Helpers

    /// The target column's index and the other (feature) columns' indices.
    private static func split(_ table: CSVTable, target: String?, role: String) throws -> (Int, [Int]) {
        let t = try target.map { try table.columnIndex(named: $0) } ?? table.columns.count - 1
        guard table.columns.count >= 2 else {
            throw CohortError.badFile(path: table.path, "line 1 (the header): need at least one feature column besides "
                + "the \(role) column, but the file has only \(table.describeColumn(0))")
        }
        return (t, table.columns.indices.filter { $0 != t })
    }

    /// The given columns as Floats, row-major.
    private static func numericFeatures(_ table: CSVTable, _ columns: [Int]) throws -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(table.count * columns.count)
        for (row, line) in zip(table.rows, table.lineNumbers) {
            for c in columns { out.append(try number(row[c], table, line: line, column: c)) }
        }
        return out
    }

    /// `text` as a finite Float, or an error naming the line and column.
    private static func number(_ text: String, _ table: CSVTable, line: Int, column: Int) throws -> Float {
        let s = trimmed(text)
        if let v = Float(s), v.isFinite { return v }
        let problem: String
        if s.isEmpty {
            problem = "empty value (missing values are not supported)"
        } else if let d = Double(s) {
            problem = d.isFinite ? "value \(text.debugDescription) is outside the Float32 range"
                : "non-finite value \(text.debugDescription) (NaN and infinity are not allowed)"
        } else {
            problem = "non-numeric value \(text.debugDescription)"
        }
        throw CohortError.badFile(path: table.path, "line \(line), \(table.describeColumn(column)): \(problem)")
    }

    /// Labels as ids plus class names, and whether the column held names.
    private static func parseLabels(_ table: CSVTable, _ c: Int) throws -> ([Int32], [String], Bool) {
        let values = table.rows.map { trimmed($0[c]) }
        func fail(_ row: Int, _ problem: String) -> CohortError {
            .badFile(path: table.path, "line \(table.lineNumbers[row]), \(table.describeColumn(c)): \(problem)")
        }
        if let empty = values.firstIndex(where: \.isEmpty) { throw fail(empty, "empty label") }
        let numeric = values.map { Double($0) }
        let firstIsNumber = numeric[0] != nil
        if let odd = numeric.firstIndex(where: { ($0 != nil) != firstIsNumber }) {
            throw fail(odd, "label \(values[odd].debugDescription) is \(firstIsNumber ? "not a number" : "a number") but the "
                + "first label (line \(table.lineNumbers[0])) is \(values[0].debugDescription); a label column holds "
                + "either integer class ids or class names, not both")
        }
        guard firstIsNumber else {
            let names = Array(Set(values)).sorted()
            let id = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, Int32($0)) })
            return (values.map { id[$0]! }, names, true)
        }
        var labels: [Int32] = []
        labels.reserveCapacity(values.count)
        for (row, v) in numeric.enumerated() {
            let x = v!
            guard x.isFinite, x == x.rounded() else { throw fail(row, "label \(values[row].debugDescription) is not an integer class id") }
            guard x >= 0 else { throw fail(row, "negative label \(values[row].debugDescription): class ids must be 0 or more") }
            guard x < Double(maxClassID) else {
                throw fail(row, "label \(values[row].debugDescription) is too large for a class id (at most \(maxClassID - 1)); "
                    + "is this a regression target?")
            }
            labels.append(Int32(x))
        }
        let numClasses = Int(labels.max()!) + 1
        return (labels, (0..<numClasses).map(String.init), false)
    }

    private static func trimmed(_ s: String) -> String {
        var sub = Substring(s)
        while let f = sub.first, f == " " || f == "\t" { sub.removeFirst() }
        while let l = sub.last, l == " " || l == "\t" { sub.removeLast() }
        return sub.count == s.count ? s : String(sub)
    }

    /// `iris` for `/data/iris/iris.csv`.
    private static func fileStem(_ path: String) -> String {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = file.lastIndex(of: "."), dot != file.startIndex else { return file }
        return String(file[..<dot])
    }
}
