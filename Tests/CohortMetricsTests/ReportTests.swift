// Text reports: scikit-learn's classification_report layout (the first expected
// string is its documented output) and the confusion-matrix table.
import Testing
import CohortMetrics

@Suite struct ReportTests {
    /// y_true = [0, 1, 2, 2, 2], y_pred = [0, 0, 2, 2, 1], as in scikit-learn's docstring.
    @Test func matchesScikitLearnLayout() throws {
        var counts = try ClassificationCounts(classes: 3)
        try counts.add(predicted: [0, 0, 2, 2, 1], labels: [0, 1, 2, 2, 2])
        let expected = """
                          precision    recall  f1-score   support

                 class 0       0.50      1.00      0.67         1
                 class 1       0.00      0.00      0.00         1
                 class 2       1.00      0.67      0.80         3

                accuracy                           0.60         5
               macro avg       0.50      0.56      0.49         5
            weighted avg       0.70      0.60      0.61         5

            """
        #expect(try MetricReport.classificationReport(counts, classNames: ["class 0", "class 1", "class 2"]) == expected)
    }

    /// Only classes in the labels or predictions get a row (class 4 is in neither). Expected string from
    /// scikit-learn's format strings applied to numpy values (see EdgeCaseTests for the arithmetic):
    ///     "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n", width = max(len(name), 12, digits)
    @Test func threeDigitsAndAbsentClasses() throws {
        var counts = try ClassificationCounts(classes: 5)
        try counts.add(predicted: [0, 3, 1, 1, 1], labels: [0, 0, 1, 1, 2])
        let names = ["cat", "dog", "bird", "fish", "a-very-long-class-name"]
        let expected = """
                          precision    recall  f1-score   support

                     cat      1.000     0.500     0.667         2
                     dog      0.667     1.000     0.800         2
                    bird      0.000     0.000     0.000         1
                    fish      0.000     0.000     0.000         0

                accuracy                          0.600         5
               macro avg      0.417     0.375     0.367         5
            weighted avg      0.667     0.600     0.587         5

            """
        #expect(try MetricReport.classificationReport(counts, classNames: names, digits: 3) == expected)
    }

    @Test func confusionMatrixTable() throws {
        var counts = try ClassificationCounts(classes: 3)
        try counts.add(predicted: [0, 0, 2, 2, 1] + Array(repeating: 2, count: 120), labels: [0, 1, 2, 2, 2] + Array(repeating: 2, count: 120))
        let expected = """
            true\\pred  0  1    2
                    0  1  0    0
                    1  1  0    0
                    2  0  1  122

            """
        #expect(try MetricReport.confusionMatrix(counts) == expected)
        let named = try MetricReport.confusionMatrix(counts, classNames: ["cat", "dog", "hamster"])
        #expect(named.split(separator: "\n").first == "true\\pred  cat  dog  hamster")
        #expect(named.split(separator: "\n").last == "  hamster    0    1      122")
    }

    @Test func badArguments() throws {
        var counts = try ClassificationCounts(classes: 2)
        expectError(.invalidArgument, "no samples") { _ = try MetricReport.classificationReport(counts) }
        try counts.add(predicted: [0], labels: [1])
        expectError(.invalidArgument, "1 class names for 2 classes") { _ = try MetricReport.classificationReport(counts, classNames: ["a"]) }
        expectError(.invalidArgument, "3 class names for 2 classes") { _ = try MetricReport.confusionMatrix(counts, classNames: ["a", "b", "c"]) }
        expectError(.invalidArgument, "digits must be in 0...15, got -1") { _ = try MetricReport.classificationReport(counts, digits: -1) }
    }
}
