#include "format.h"
#include <QTest>

using gh::ui::Format;

class TestFormat : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void usd_data()
    {
        QTest::addColumn<double>("value");
        QTest::addColumn<QString>("text");
        QTest::newRow("zero") << 0.0 << "$0.00";
        QTest::newRow("cents") << 0.0123 << "$0.0123";
        QTest::newRow("half") << 0.5 << "$0.50";
        QTest::newRow("three significant") << 0.12345 << "$0.123";
        QTest::newRow("micro") << 0.000001234 << "$0.00000123";
        QTest::newRow("dollars") << 12.5 << "$12.50";
        QTest::newRow("rounds up to a thousand") << 999.999 << "$1,000";
        QTest::newRow("thousands") << 1234.0 << "$1,234";
        QTest::newRow("millions") << 1234567.8 << "$1,234,568";
        QTest::newRow("negative") << -2.0 << "-$2.00";
        QTest::newRow("negative zero after rounding") << -0.0 << "$0.00";
    }
    void usd()
    {
        QFETCH(double, value);
        QFETCH(QString, text);
        Format f(nullptr);
        QCOMPARE(f.usd(value), text);
    }

    void currency()
    {
        Format f(nullptr);
        f.setCurrency(QStringLiteral("EUR"), 0.5);
        QCOMPARE(f.usd(10), QStringLiteral("€5.00"));
        QCOMPARE(f.currencySymbol(), QStringLiteral("€"));
        f.setCurrency(QStringLiteral("GBP"), -3); // an invalid rate falls back to 1
        QCOMPARE(f.usd(10), QStringLiteral("£10.00"));
        f.setCurrency(QStringLiteral("XYZ"), 2); // unknown: USD, rate ignored
        QCOMPARE(f.currency(), QStringLiteral("USD"));
        QCOMPARE(f.usd(10), QStringLiteral("$10.00"));
    }

    void limitText()
    {
        Format f(nullptr);
        QCOMPARE(f.limit(-1), QStringLiteral("No limit"));
        QCOMPARE(f.limit(25), QStringLiteral("$25.00"));
        QCOMPARE(f.limit(0), QStringLiteral("$0.00"));
    }

    void tokens_data()
    {
        QTest::addColumn<double>("count");
        QTest::addColumn<QString>("text");
        QTest::newRow("small") << 999.0 << "999";
        QTest::newRow("k") << 1234.0 << "1.2k";
        QTest::newRow("k exact") << 2000.0 << "2k";
        QTest::newRow("tens of k") << 12345.0 << "12.3k";
        QTest::newRow("hundreds of k") << 123456.0 << "123k";
        QTest::newRow("almost a million") << 999999.0 << "1M";
        QTest::newRow("M") << 3400000.0 << "3.4M";
        QTest::newRow("B") << 1.2e9 << "1.2B";
    }
    void tokens()
    {
        QFETCH(double, count);
        QFETCH(QString, text);
        QCOMPARE(Format(nullptr).tokens(count), text);
    }

    void duration()
    {
        Format f(nullptr);
        QCOMPARE(f.duration(850), QStringLiteral("850 ms"));
        QCOMPARE(f.duration(1234), QStringLiteral("1.2 s"));
        QCOMPARE(f.duration(125000), QStringLiteral("2m 05s"));
        QCOMPARE(f.duration(3720000), QStringLiteral("1h 02m"));
        QCOMPARE(f.duration(-1), QStringLiteral("—"));
    }

    void percent()
    {
        Format f(nullptr);
        QCOMPARE(f.percent(0.423), QStringLiteral("42%"));
        QCOMPARE(f.percent(0.042), QStringLiteral("4.2%"));
        QCOMPARE(f.percent(0.05), QStringLiteral("5%"));
        QCOMPARE(f.percent(1.0), QStringLiteral("100%"));
        QCOMPARE(f.percent(1.254), QStringLiteral("125%"));
    }

    void dateTime()
    {
        Format f(nullptr);
        const QDateTime t(QDate(2025, 3, 12), QTime(15, 4, 5));
        QCOMPARE(f.dateTime(double(t.toMSecsSinceEpoch())), QStringLiteral("2025-03-12 15:04:05"));
        QCOMPARE(f.dateTime(0), QString());
    }

    void sliderEnds()
    {
        Format f(nullptr);
        QCOMPARE(f.sliderToUsd(0), 0.1);
        QCOMPARE(f.sliderToUsd(1), 1000.0);
        QCOMPARE(f.sliderToUsd(-3), 0.1); // clamped
        QCOMPARE(f.sliderToUsd(7), 1000.0);
        // Four decades over 0..1: each quarter is a factor of ten.
        QCOMPARE(f.sliderToUsd(0.25), 1.0);
        QCOMPARE(f.sliderToUsd(0.5), 10.0);
        QCOMPARE(f.sliderToUsd(0.75), 100.0);
        QCOMPARE(f.usdToSlider(1), 0.25);
        QCOMPARE(f.usdToSlider(100), 0.75);
        QCOMPARE(f.usdToSlider(0.01), 0.0);
        QCOMPARE(f.usdToSlider(-1), 0.0);
        QCOMPARE(f.usdToSlider(5000), 1.0);
    }

    void sliderNiceValuesRoundTrip()
    {
        Format f(nullptr);
        for (const double v :
            {0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 5.0, 7.5, 10.0, 20.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0})
            QCOMPARE(f.sliderToUsd(f.usdToSlider(v)), v);
    }

    void sliderIsMonotonicAndNice()
    {
        Format f(nullptr);
        double previous = 0;
        for (int i = 0; i <= 1000; ++i) {
            const double v = f.sliderToUsd(i / 1000.0);
            QVERIFY2(v >= previous, qPrintable(QStringLiteral("%1 < %2 at %3").arg(v).arg(previous).arg(i)));
            QCOMPARE(f.niceUsd(v), v);
            previous = v;
        }
    }

    void niceUsd()
    {
        Format f(nullptr);
        QCOMPARE(f.niceUsd(37), 40.0); // 3.7 is nearer 4 than 3 on a log scale
        QCOMPARE(f.niceUsd(0.33), 0.3);
        QCOMPARE(f.niceUsd(0.26), 0.25);
        QCOMPARE(f.niceUsd(9.2), 10.0);
        QCOMPARE(f.niceUsd(0), 0.0);
    }
};

QTEST_GUILESS_MAIN(TestFormat)
#include "tst_format.moc"
