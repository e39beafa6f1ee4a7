// CSV reading: the tabular datasets in the shared data directory checked against
// the figures in their READMEs (skipped when the directory is absent), the CSV
// syntax on small files, and every error on small files, each message naming the
// file, the line and the column.
import Testing
import Foundation
import CohortCore
import CohortData

/// `<repo>/../shared/data`, found from this file's path (Tests/CohortDataTests/…).
fileprivate let csvSharedDataDirectory: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().appendingPathComponent("../../../shared/data").standardized.path
fileprivate let csvSharedDataAvailable = FileManager.default.fileExists(atPath: csvSharedDataDirectory + "/iris/iris.csv")

extension CSVTests {
    /// The shared data sets (nested so that the filter `CSVTests` selects them).
    @Suite(.enabled(if: csvSharedDataAvailable, "no CSV data at \(csvSharedDataDirectory); skipping the real-data tests"))
    struct RealData {
        func path(_ file: String) -> String { csvSharedDataDirectory + "/" + file }

        @Test func iris() throws {
            let iris = try CSVDataset.classification(path: path("iris/iris.csv"))
            let d = iris.dataset
            #expect(d.name == "iris" && d.count == 150 && d.featureShape == [4] && d.numClasses == 3)
            #expect(d.labelCounts() == [50, 50, 50])
            #expect(Array(d.features.prefix(4)) == [5.1, 3.5, 1.4, 0.2] && d.labels[0] == 0)
            // Grouped by class: rows 1-50 are 0, 51-100 are 1, 101-150 are 2.
            #expect(d.labels[49] == 0 && d.labels[50] == 1 && d.labels[100] == 2)
            #expect(iris.featureNames == ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"])
            #expect(iris.labelColumn == "label" && iris.classNames == ["0", "1", "2"] && !iris.labelsWereCategorical)
            let table = try CSVTable.read(path: path("iris/iris.csv"))
            #expect(table.count == 150 && table.lineNumbers.first == 2 && table.lineNumbers.last == 151)
        }

        @Test func wine() throws {
            let wine = try CSVDataset.classification(path: path("wine/wine.csv"), labelColumn: "label", name: "wine-all")
            let d = wine.dataset
            #expect(d.name == "wine-all" && d.count == 178 && d.featureShape == [13] && d.numClasses == 3)
            #expect(d.labelCounts() == [59, 71, 48])
            #expect(Array(d.features.prefix(13)) == [14.23, 1.71, 2.43, 15.6, 127, 2.8, 3.06, 0.28, 2.29, 5.64, 1.04, 3.92, 1065])
            #expect(wine.featureNames.first == "alcohol" && wine.featureNames[11] == "od280_od315_of_diluted_wines"
                && wine.featureNames.last == "proline")
            // Proline reaches 1680 while hue stays near 1.
            #expect(stride(from: 12, to: d.features.count, by: 13).map { d.features[$0] }.max() == 1680)
        }

        @Test func breastCancer() throws {
            let bc = try CSVDataset.classification(path: path("breast-cancer/breast_cancer.csv"))
            let d = bc.dataset
            #expect(d.count == 569 && d.featureShape == [30] && d.numClasses == 2)
            #expect(d.labelCounts() == [212, 357])
            #expect(Array(d.features.prefix(10)) == [17.99, 10.38, 122.8, 1001, 0.1184, 0.2776, 0.3001, 0.1471, 0.2419, 0.07871])
            #expect(d.labels.prefix(2) == [0, 0])
            #expect(bc.featureNames[0] == "mean_radius" && bc.featureNames[10] == "radius_error"
                && bc.featureNames[20] == "worst_radius" && bc.featureNames[29] == "worst_fractal_dimension")
        }

        @Test func diabetesRegression() throws {
            let r = try CSVDataset.regression(path: path("diabetes/diabetes.csv"))
            #expect(r.count == 442 && r.featureCount == 10 && r.features.count == 4420)
            #expect(r.featureNames == ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"] && r.targetName == "target")
            #expect(Array(r.features.prefix(10)) == [59, 2, 32.1, 101.0, 157, 93.2, 38.0, 4.0, 4.8598, 87])
            #expect(r.targets.prefix(2) == [151, 75])
            #expect(r.targets.min() == 25 && r.targets.max() == 346)
            let age = stride(from: 0, to: r.features.count, by: 10).map { r.features[$0] }
            #expect(age.min() == 19 && age.max() == 79)
            // Another column as the target: the rest, including `target`, become features.
            let bmi = try CSVDataset.regression(path: path("diabetes/diabetes.csv"), targetColumn: "bmi")
            #expect(bmi.targets.first == 32.1 && bmi.featureNames.last == "target" && bmi.features[9] == 151)
            // `sex` (1 or 2) as integer class ids: three classes, class 0 empty.
            let sex = try CSVDataset.classification(path: path("diabetes/diabetes.csv"), labelColumn: "sex")
            #expect(sex.dataset.numClasses == 3 && sex.dataset.labelCounts()[0] == 0 && sex.dataset.featureShape == [10])
        }

        @Test func aFractionalColumnIsNotALabelColumn() throws {
            let msg = try #require(badFileMessage {
                _ = try CSVDataset.classification(path: path("iris/iris.csv"), labelColumn: "petal_width_cm")
            })
            #expect(msg.contains("iris.csv") && msg.contains("line 2,") && msg.contains("column 4 'petal_width_cm'")
                && msg.contains("\"0.2\" is not an integer"), "\(msg)")
        }
    }
}

@Suite struct CSVTests {
    /// Writes `text` to `name` in a fresh directory; returns the directory (to remove) and the path.
    func file(_ text: String, _ name: String = "data.csv") throws -> (ScratchDirectory, String) {
        let dir = try ScratchDirectory()
        return (dir, try dir.write(Array(text.utf8), to: name))
    }

    /// The `badFile` message of a classification read of `text`; nil if none was thrown.
    func classificationError(_ text: String, _ name: String, labelColumn: String? = nil) throws -> String? {
        let (dir, p) = try file(text, name)
        defer { dir.remove() }
        return badFileMessage { _ = try CSVDataset.classification(path: p, labelColumn: labelColumn) }
    }

    @Test func quotingLineEndingsAndLineNumbers() throws {
        // CRLF, a quoted delimiter, "" escapes, a line break inside quotes, blank lines, a BOM, no final newline.
        let text = "\u{FEFF}id,\"note, quoted\",x\r\n1,\"say \"\"hi\"\"\",2.5\r\n\r\n2,\"two\nlines\",-3\n3,,1e3"
        let (dir, p) = try file(text)
        defer { dir.remove() }
        let t = try CSVTable.read(path: p)
        #expect(t.columns == ["id", "note, quoted", "x"])
        #expect(t.rows == [["1", "say \"hi\"", "2.5"], ["2", "two\nlines", "-3"], ["3", "", "1e3"]])
        #expect(t.lineNumbers == [2, 4, 6])
        #expect(t.describeColumn(1) == "column 2 'note, quoted'")
        let notes = try CSVTable.parse(Array("id,x\n\"1\",\"2.5\"\n".utf8), path: "inline.csv")
        let r = try CSVDataset.regression(table: notes, targetColumn: "id")
        #expect(r.targets == [1] && r.features == [2.5] && r.featureNames == ["x"])
        let noHeader = try CSVTable.read(path: p, hasHeader: false)
        #expect(noHeader.columns == ["column1", "column2", "column3"] && noHeader.count == 4 && noHeader.lineNumbers[0] == 1)
    }

    @Test func otherDelimitersAndSpaces() throws {
        let (dir, p) = try file("a;b;label\n 1.5 ; 2 ;1\n3;4;0\n")
        defer { dir.remove() }
        let c = try CSVDataset.classification(path: p, delimiter: ";")
        #expect(c.dataset.features == [1.5, 2, 3, 4] && c.dataset.labels == [1, 0] && c.dataset.name == "data")
        #expect(throws: CohortError.self) { try CSVTable.read(path: p, delimiter: "\"") }
        #expect(throws: CohortError.self) { try CSVTable.read(path: p, delimiter: "→") }
    }

    @Test func categoricalLabelsAreSortedNames() throws {
        let (dir, p) = try file("w,h,species\n1,2,virginica\n3,4,setosa\n5,6, versicolor\n7,8,setosa\n", "flowers.csv")
        defer { dir.remove() }
        let c = try CSVDataset.classification(path: p)
        #expect(c.labelsWereCategorical && c.classNames == ["setosa", "versicolor", "virginica"])
        #expect(c.dataset.labels == [2, 0, 1, 0] && c.dataset.numClasses == 3 && c.dataset.name == "flowers")
        // Integer labels written as floats are accepted when exact.
        let (dir2, p2) = try file("a,label\n1,2.0\n2,0\n")
        defer { dir2.remove() }
        #expect(try CSVDataset.classification(path: p2).dataset.labels == [2, 0])
    }

    @Test func raggedRowsSayExpectedAndFound() throws {
        let short = try #require(try classificationError("a,b,label\n1,2,0\n3,4\n", "short.csv"))
        #expect(short.contains("short.csv") && short.contains("line 3:") && short.contains("expected 3 fields")
            && short.contains("found 2") && short.contains("column 3 'label' is missing"), "\(short)")
        let long = try #require(try classificationError("a,b,label\n1,2,0\n\n3,4,1,9,9\n", "long.csv"))
        #expect(long.contains("long.csv") && long.contains("line 4:") && long.contains("found 5")
            && long.contains("2 extra field(s) after the last column 3 'label'"), "\(long)")
    }

    @Test func nonNumericEmptyAndOutOfRangeFeaturesAreNamed() throws {
        let text = try #require(try classificationError("a,b,label\n1,2,0\n3,abc,1\n", "text.csv"))
        #expect(text.contains("text.csv") && text.contains("line 3, column 2 'b'") && text.contains("non-numeric value \"abc\""), "\(text)")
        let empty = try #require(try classificationError("a,b,label\n1,,0\n", "gap.csv"))
        #expect(empty.contains("gap.csv") && empty.contains("line 2, column 2 'b'") && empty.contains("empty value"), "\(empty)")
        let big = try #require(try classificationError("a,b,label\n1e39,1,0\n", "big.csv"))
        #expect(big.contains("big.csv") && big.contains("line 2, column 1 'a'") && big.contains("outside the Float32 range"), "\(big)")
    }

    @Test func nanAndInfinityAreRejected() throws {
        for (value, line) in [("nan", 3), ("inf", 3), ("-Infinity", 3), ("NaN", 3)] {
            let msg = try #require(try classificationError("a,b,label\n1,2,0\n\(value),4,1\n", "nan.csv"))
            #expect(msg.contains("nan.csv") && msg.contains("line \(line), column 1 'a'")
                && msg.contains("non-finite value \"\(value)\""), "\(msg)")
        }
        let (dir, p) = try file("a,target\n1,2\n2,nan\n", "reg.csv")
        defer { dir.remove() }
        let msg = try #require(badFileMessage { _ = try CSVDataset.regression(path: p) })
        #expect(msg.contains("reg.csv") && msg.contains("line 3, column 2 'target'") && msg.contains("non-finite"), "\(msg)")
    }

    @Test func emptyAndHeaderOnlyFiles() throws {
        for (text, name) in [("", "empty.csv"), ("\n\r\n\n", "blank.csv")] {
            let msg = try #require(try classificationError(text, name))
            #expect(msg.contains(name) && msg.contains("empty file"), "\(msg)")
        }
        let msg = try #require(try classificationError("a,b,label\n", "header.csv"))
        #expect(msg.contains("header.csv") && msg.contains("only a header (line 1)") && msg.contains("no data rows"), "\(msg)")
    }

    @Test func unknownLabelColumnSuggestsTheClosestName() throws {
        let csv = "sepal_length,sepal_width,species\n1,2,0\n"
        let msg = try #require(try classificationError(csv, "typo.csv", labelColumn: "Specis"))
        #expect(msg.contains("typo.csv") && msg.contains("line 1") && msg.contains("no column named 'Specis'")
            && msg.contains("did you mean 'species'?") && msg.contains("'sepal_length', 'sepal_width', 'species'"), "\(msg)")
        let far = try #require(try classificationError(csv, "far.csv", labelColumn: "zzzzzzzzzz"))
        #expect(far.contains("far.csv") && !far.contains("did you mean") && far.contains("The 3 columns are"), "\(far)")
        let dup = try #require(try classificationError("a,a,label\n1,2,0\n", "dup.csv", labelColumn: "a"))
        #expect(dup.contains("dup.csv") && dup.contains("ambiguous") && dup.contains("columns 1 and 2"), "\(dup)")
        let lone = try #require(try classificationError("label\n1\n", "lone.csv"))
        #expect(lone.contains("lone.csv") && lone.contains("at least one feature column"), "\(lone)")
    }

    @Test func unterminatedQuoteAndTextAfterAQuote() throws {
        let msg = try #require(try classificationError("a,b,label\n1,2,0\n3,\"4,1\n5,6,0\n", "quote.csv"))
        #expect(msg.contains("quote.csv") && msg.contains("line 3, column 2 'b'") && msg.contains("unterminated quoted field"), "\(msg)")
        let after = try #require(try classificationError("a,b,label\n1,\"2\"x,0\n", "after.csv"))
        #expect(after.contains("after.csv") && after.contains("line 2, column 2 'b'") && after.contains("after the closing quote"), "\(after)")
    }

    @Test func badIntegerLabelsAreRejected() throws {
        let negative = try #require(try classificationError("a,label\n1,0\n2,-1\n", "neg.csv"))
        #expect(negative.contains("neg.csv") && negative.contains("line 3, column 2 'label'")
            && negative.contains("negative label \"-1\""), "\(negative)")
        let fraction = try #require(try classificationError("a,label\n1,0\n2,1\n3,1.5\n", "frac.csv"))
        #expect(fraction.contains("frac.csv") && fraction.contains("line 4, column 2 'label'")
            && fraction.contains("\"1.5\" is not an integer class id"), "\(fraction)")
        let mixed = try #require(try classificationError("a,label\n1,0\n2,cat\n", "mixed.csv"))
        #expect(mixed.contains("mixed.csv") && mixed.contains("line 3, column 2 'label'") && mixed.contains("not both"), "\(mixed)")
        let missing = try #require(try classificationError("a,label\n1,0\n2,\n", "nolabel.csv"))
        #expect(missing.contains("nolabel.csv") && missing.contains("line 3, column 2 'label'")
            && missing.contains("empty label"), "\(missing)")
        let huge = try #require(try classificationError("a,label\n1,70000\n", "huge.csv"))
        #expect(huge.contains("huge.csv") && huge.contains("line 2") && huge.contains("too large"), "\(huge)")
    }

    @Test func missingFileNamesThePath() throws {
        let p = "/nonexistent-cohort-dir/table.csv"
        let msg = try #require(badFileMessage { _ = try CSVDataset.regression(path: p) })
        #expect(msg.contains(p) && msg.contains("No such file"))
    }
}
