// The series a forecasting run learns from (`cohort train --task forecast`): one
// numeric CSV column read in file order, its empty cells filled by linear
// interpolation (counted), the first column checked to increase when it is a time
// column; the chronological train/validation/test split, the sliding windows of
// each part and the standardization fitted on the training part only.
import CohortCore
import CohortData
import Foundation

/// A univariate series: the values of one CSV column, gaps interpolated.
public struct ForecastSeries: Sendable {
    /// The data's name (the file's base name).
    public let name: String
    /// The column the values come from.
    public let column: String
    /// The values in time order, missing ones filled.
    public let values: [Double]
    /// How many values were missing and filled by linear interpolation.
    public let interpolated: Int

    public init(name: String, column: String, values: [Double], interpolated: Int = 0) {
        (self.name, self.column, self.values, self.interpolated) = (name, column, values, interpolated)
    }

    /// Reads column `column` of the CSV file at `path`. Empty cells (and `NA`, `NaN`) are missing:
    /// each run of them between two known values is filled on the straight line between those.
    /// When the first column is not `column`, it is the time column: its values must increase
    /// strictly (compared as numbers when both parse, else as text, which orders ISO 8601 dates).
    /// - Throws: `CohortError.badFlag(flag: "--column")` for a column the file lacks;
    ///   `CohortError.badFile` naming the line of a non-numeric value, a missing first or last value
    ///   (nothing to interpolate from) or a time value that does not increase.
    public static func load(path: String, column: String) throws -> ForecastSeries {
        let table = try CSVTable.read(path: path)
        let index: Int
        do { index = try table.columnIndex(named: column) } catch let error as CohortError {
            throw CohortError.badFlag(flag: "--column", "\(error)")
        }
        var raw: [Double?] = []
        raw.reserveCapacity(table.count)
        for (row, line) in zip(table.rows, table.lineNumbers) {
            let cell = row[index].trimmingCharacters(in: .whitespaces)
            if cell.isEmpty || ["na", "nan", "null"].contains(cell.lowercased()) { raw.append(nil); continue }
            guard let v = Double(cell), v.isFinite else {
                throw CohortError.badFile(path: path, "line \(line): \(table.describeColumn(index)) holds '\(cell)', not a number")
            }
            raw.append(v)
        }
        if index != 0 { try checkOrder(table, path: path) }
        let (values, filled) = try interpolate(raw, path: path, lines: table.lineNumbers)
        return ForecastSeries(name: URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent,
                              column: column, values: values, interpolated: filled)
    }

    /// Fills each run of nils on the line between the known values around it.
    /// - Throws: `CohortError.badFile` naming the line when the first or last value is missing.
    public static func interpolate(_ raw: [Double?], path: String, lines: [Int]) throws -> (values: [Double], filled: Int) {
        guard let first = raw.firstIndex(where: { $0 != nil }) else {
            throw CohortError.badFile(path: path, "the column holds no values")
        }
        if first > 0 { throw CohortError.badFile(path: path, "line \(lines[0]): the first value is missing; there is nothing before it to interpolate from (remove the leading empty rows)") }
        if raw.last! == nil { throw CohortError.badFile(path: path, "line \(lines[raw.count - 1]): the last value is missing; there is nothing after it to interpolate from (remove the trailing empty rows)") }
        var values = raw.map { $0 ?? .nan }
        var filled = 0, last = 0
        for i in 1..<raw.count where raw[i] != nil {
            if i - last > 1 {
                for j in (last + 1)..<i {
                    let w = Double(j - last) / Double(i - last)
                    values[j] = values[last] + w * (values[i] - values[last])
                    filled += 1
                }
            }
            last = i
        }
        return (values, filled)
    }

    /// The first column as time stamps: strictly increasing.
    static func checkOrder(_ table: CSVTable, path: String) throws {
        for i in 1..<max(table.count, 1) {
            let a = table.rows[i - 1][0].trimmingCharacters(in: .whitespaces), b = table.rows[i][0].trimmingCharacters(in: .whitespaces)
            let increasing: Bool
            if let x = Double(a), let y = Double(b) { increasing = y > x } else { increasing = b > a }
            guard increasing else {
                throw CohortError.badFile(path: path, "line \(table.lineNumbers[i]): the time column \(table.describeColumn(0)) goes from '\(a)' to '\(b)'; "
                    + "the rows must be in increasing time order (sort the file)")
            }
        }
    }
}

/// The chronological split of a series: `[0, trainEnd)` trains, `[trainEnd, validationEnd)`
/// validates, `[validationEnd, count)` tests. Never shuffled across time.
public struct ChronologicalSplit: Sendable, Equatable {
    public let count: Int, trainEnd: Int, validationEnd: Int

    /// Cuts `count` values at the fractions `train` and `validation` (the test part is the rest),
    /// each rounded to whole values.
    /// - Throws: `CohortError.badFlag(flag: "--split")` for fractions outside (0, 1) or summing to 1 or more.
    public init(count: Int, train: Double, validation: Double) throws {
        guard train > 0, validation >= 0, train + validation < 1, train.isFinite, validation.isFinite else {
            throw CohortError.badFlag(flag: "--split", "train \(train) and validation \(validation) must be fractions with train > 0, validation ≥ 0 and a test part left (sum < 1)")
        }
        self.count = count
        trainEnd = Int((Double(count) * train).rounded())
        validationEnd = min(count, trainEnd + Int((Double(count) * validation).rounded()))
    }
}

/// Sliding windows over a series: window i reads `context` values before its origin `origins[i]`
/// and predicts the `horizon` values from the origin on.
public struct ForecastWindows: Sendable {
    /// The first target index of each window, increasing.
    public let origins: [Int]
    public let context: Int, horizon: Int

    /// The windows whose targets lie wholly in `[from, to)` (their inputs may reach back before
    /// `from`: they are observed history), every origin from the first with a full context on.
    public init(from: Int, to: Int, context: Int, horizon: Int) {
        let first = max(from, context), last = to - horizon
        origins = first <= last ? Array(first...last) : []
        (self.context, self.horizon) = (context, horizon)
    }

    public var count: Int { origins.count }
}

/// Standardization fitted on the training part: z = (y − mean) / std.
public struct SeriesScaler: Sendable, Equatable {
    public let mean: Double, std: Double

    public init(mean: Double, std: Double) { (self.mean, self.std) = (mean, std) }

    /// Mean and (population) standard deviation of `values` (std 1 for a constant part).
    public init<C: Collection>(fitting values: C) where C.Element == Double {
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
        self.mean = mean
        std = variance > 0 ? variance.squareRoot() : 1
    }

    public func scale(_ y: Double) -> Double { (y - mean) / std }
    public func unscale(_ z: Double) -> Double { z * std + mean }
    /// `{"kind":"standardize","mean":…,"std":…}` for the checkpoint's inference records.
    public var json: String { #"{"kind":"standardize","mean":"# + "\(mean),\"std\":\(std)}" }
}
