// ActivityModel: the request log paged from SQLite, newest first, filtered, live, exported.
#include "activitymodel.h"
#include "settingscontroller.h"
#include "uitestfixture.h"
#include <QAbstractItemModelTester>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <sqlite3.h>

using namespace gh;
using namespace gh::ui;
using namespace gh::ui::test;

namespace {

constexpr int kRows = 1000;
const qint64 kBase = 1'700'000'000'000; // 2023-11-14

QString idOf(int i)
{
    return QStringLiteral("req_%1").arg(i, 4, 10, QLatin1Char('0'));
}

// Row i: started kBase + i seconds; keys alternate; three models; every 10th is a 502; sessions
// sess-a (i % 4 == 0) and sess-b (i % 4 == 1), none for the rest; refusals (all of key beta): a
// budget one where i % 20 == 5, a policy one where i % 20 == 15.
RequestRecord row(int i)
{
    const bool alpha = i % 2 == 0;
    const QString model = QStringList{"m-a", "m-b", "m-c"}.at(i % 3);
    RequestRecord r = record(idOf(i), kBase + qint64(i) * 1000, alpha ? 1 : 2, alpha ? "alpha" : "beta", model,
        alpha ? "openai" : "anthropic", i % 10 == 0 ? std::nullopt : std::optional<double>(0.001 * i),
        i % 10 == 0 ? 502 : 200, i, 2 * i);
    r.sessionId = QStringList{"sess-a", "sess-b", "", ""}.at(i % 4);
    if (i % 20 == 5) {
        r.status = 402;
        r.error = QStringLiteral("Key 'beta' has reached its day limit");
        r.refusal = QStringLiteral("budget");
        r.cost = 0;
    } else if (i % 20 == 15) {
        r.status = 400;
        r.error = QStringLiteral("Model 'm-b' is refused by a data policy (data policy: key 'beta' requires zdr; zdr is off)");
        r.refusal = QStringLiteral("policy");
        r.cost = 0;
    }
    return r;
}

} // namespace

class TestActivityModel : public QObject
{
    Q_OBJECT
private:
    UiFixture m_fx;

    // The row's value once its page has been fetched (asking for it starts the fetch).
    static QVariant loaded(ActivityModel &m, int row, int role)
    {
        const QModelIndex i = m.index(row);
        m.data(i, ActivityModel::RequestIdRole);
        if (!QTest::qWaitFor([&] { return m.data(i, ActivityModel::LoadedRole).toBool(); }, 5000))
            return {};
        return m.data(i, role);
    }
    static QString idAt(ActivityModel &m, int row) { return loaded(m, row, ActivityModel::RequestIdRole).toString(); }

private Q_SLOTS:
    void initTestCase()
    {
        QList<RequestRecord> log;
        for (int i = 0; i < kRows; ++i)
            log.append(row(i));
        QVERIFY(m_fx.prepare({key(1, "alpha"), key(2, "beta")}, log));
        QVERIFY(m_fx.start());
    }

    void newestFirstAcrossPages()
    {
        ActivityModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QTRY_COMPARE(m.totalCount(), kRows);
        QCOMPARE(m.rowCount(), kRows);
        QCOMPARE(idAt(m, 0), idOf(999));
        QCOMPARE(idAt(m, 199), idOf(800));
        QCOMPARE(idAt(m, 200), idOf(799));
        QCOMPARE(idAt(m, 555), idOf(444));
        QCOMPARE(idAt(m, 999), idOf(0));
        QCOMPARE(idAt(m, 998), idOf(1)); // the page next to a cached one comes by keyset
        QCOMPARE(idAt(m, 400), idOf(599));
        QCOMPARE(idAt(m, 600), idOf(399));
        // Every field of a row.
        const int r = 999 - 123;
        QCOMPARE(loaded(m, r, ActivityModel::StartedAtRole).toLongLong(), kBase + 123'000);
        QCOMPARE(m.data(m.index(r), ActivityModel::KeyNameRole).toString(), QStringLiteral("beta"));
        QCOMPARE(m.data(m.index(r), ActivityModel::ModelRole).toString(), QStringLiteral("m-a"));
        QCOMPARE(m.data(m.index(r), ActivityModel::ProviderRole).toString(), QStringLiteral("anthropic"));
        QCOMPARE(m.data(m.index(r), ActivityModel::StatusRole).toInt(), 200);
        QCOMPARE(m.data(m.index(r), ActivityModel::InputTokensRole).toLongLong(), 123);
        QCOMPARE(m.data(m.index(r), ActivityModel::OutputTokensRole).toLongLong(), 246);
        QCOMPARE(m.data(m.index(r), ActivityModel::CostRole).toDouble(), 0.123);
        QVERIFY(m.data(m.index(r), ActivityModel::OkRole).toBool());
        QCOMPARE(loaded(m, 999 - 120, ActivityModel::CostRole).toDouble(), -1.0); // unpriced 502
        QCOMPARE(
            m.data(m.index(999 - 120), ActivityModel::ErrorRole).toString(), QStringLiteral("upstream answered 502"));
        QVERIFY(!m.data(m.index(999 - 120), ActivityModel::OkRole).toBool());
        const QVariantMap detail = m.get(r);
        QCOMPARE(detail.value("requestId").toString(), idOf(123));
        QCOMPARE(detail.value("endpoint").toString(), QStringLiteral("/v1/chat/completions"));
        QCOMPARE(detail.value("keyId").toLongLong(), 2);
        QCOMPARE(detail.value("ttftMs").toLongLong(), 120);
        QVERIFY(m.cachedPages() <= ActivityModel::kMaxPages);
    }

    void filters()
    {
        ActivityModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QTRY_COMPARE(m.totalCount(), kRows);
        m.setKeyFilter(QStringLiteral("alpha"));
        QVERIFY(m.filtered());
        QTRY_VERIFY(!m.loading());
        QCOMPARE(m.totalCount(), 500);
        QCOMPARE(idAt(m, 0), idOf(998));
        QCOMPARE(idAt(m, 499), idOf(0));
        m.setStatusFilter(QStringLiteral("error")); // alpha and a 502: i % 10 == 0
        QTRY_VERIFY(!m.loading());
        QCOMPARE(m.totalCount(), 100);
        QCOMPARE(idAt(m, 1), idOf(980));
        m.setStatusFilter(QStringLiteral("ok"));
        QTRY_VERIFY(!m.loading());
        QCOMPARE(m.totalCount(), 400);
        m.clearFilters();
        m.setModelFilter(QStringLiteral("m-b")); // i % 3 == 1
        m.setProviderFilter(QStringLiteral("anthropic")); // odd i: i % 6 == 1
        QTRY_VERIFY(!m.loading());
        QCOMPARE(m.totalCount(), 167);
        QCOMPARE(idAt(m, 0), idOf(997));
        m.clearFilters();
        m.setSearch(QStringLiteral(" req_09 ")); // req_0900 .. req_0999
        QTRY_VERIFY(!m.loading());
        QCOMPARE(m.totalCount(), 100);
        QCOMPARE(idAt(m, 99), idOf(900));
        m.setSearch(QStringLiteral("99")); // any part of an id: 0099, 0199, ... 0999 and 0990 .. 0998
        QTRY_VERIFY(!m.loading());
        QCOMPARE(m.totalCount(), 19);
        QCOMPARE(idAt(m, 0), idOf(999));
        QCOMPARE(idAt(m, 18), idOf(99));
        m.setSearch(QStringLiteral("REQ_0999")); // pasted in capitals
        QTRY_VERIFY(!m.loading());
        QCOMPARE(m.totalCount(), 1);
        m.setSearch(QString());
        m.setFromMs(kBase + 100'000); // rows 100 .. 199
        m.setToMs(kBase + 199'000);
        QTRY_VERIFY(!m.loading());
        QCOMPARE(m.totalCount(), 100);
        QCOMPARE(idAt(m, 0), idOf(199));
        m.clearFilters();
        m.setSessionFilter(QStringLiteral("sess-b")); // i % 4 == 1
        QVERIFY(m.filtered());
        QTRY_VERIFY(!m.loading());
        QCOMPARE(m.totalCount(), 250);
        QCOMPARE(idAt(m, 0), idOf(997));
        QCOMPARE(loaded(m, 0, ActivityModel::SessionRole).toString(), QStringLiteral("sess-b"));
        m.setKeyFilter(QStringLiteral("alpha")); // even i: never sess-b
        QTRY_VERIFY(!m.loading());
        QCOMPARE(m.totalCount(), 0);
        m.clearFilters();
        QCOMPARE(m.sessionFilter(), QString());
        QCOMPARE(loaded(m, 0, ActivityModel::SessionRole).toString(), QString()); // row 999: none
        m.setKeyFilter(QStringLiteral("nobody"));
        QTRY_VERIFY(!m.loading());
        QCOMPARE(m.totalCount(), 0);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression("statusFilter must be"));
        m.setStatusFilter(QStringLiteral("maybe"));
        QCOMPARE(m.statusFilter(), QStringLiteral("all"));
    }

    // Refusals are evidence: "refused" shows what Gatehouse turned away, every kind or one, with
    // the kind and the reason on each row.
    void refusalFilter()
    {
        ActivityModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QTRY_COMPARE(m.totalCount(), kRows);
        QCOMPARE(loaded(m, 0, ActivityModel::RefusalRole).toString(), QString()); // row 999: served
        m.setStatusFilter(QStringLiteral("refused"));
        QVERIFY(m.filtered());
        QTRY_VERIFY(!m.loading());
        QCOMPARE(m.totalCount(), 100);
        QCOMPARE(idAt(m, 0), idOf(995));
        QCOMPARE(loaded(m, 0, ActivityModel::RefusalRole).toString(), QStringLiteral("policy"));
        QVERIFY(loaded(m, 0, ActivityModel::ErrorRole).toString().contains(QLatin1String("requires zdr")));
        m.setRefusalFilter(QStringLiteral("budget"));
        QTRY_VERIFY(!m.loading());
        QCOMPARE(m.totalCount(), 50);
        QCOMPARE(idAt(m, 0), idOf(985));
        QCOMPARE(idAt(m, 49), idOf(5));
        QCOMPARE(loaded(m, 0, ActivityModel::RefusalRole).toString(), QStringLiteral("budget"));
        QCOMPARE(m.get(0).value(QStringLiteral("refusal")).toString(), QStringLiteral("budget"));
        m.setRefusalFilter(QStringLiteral("policy"));
        QTRY_VERIFY(!m.loading());
        QCOMPARE(m.totalCount(), 50);
        m.setRefusalFilter(QStringLiteral("secret"));
        QTRY_VERIFY(!m.loading());
        QCOMPARE(m.totalCount(), 0);
        m.setRefusalFilter(QString());
        m.setKeyFilter(QStringLiteral("alpha")); // every refusal is beta's
        QTRY_VERIFY(!m.loading());
        QCOMPARE(m.totalCount(), 0);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression("refusalFilter must be"));
        m.setRefusalFilter(QStringLiteral("weather"));
        QCOMPARE(m.refusalFilter(), QString());
        // Refusals are errors too.
        m.clearFilters();
        m.setStatusFilter(QStringLiteral("error"));
        QTRY_VERIFY(!m.loading());
        QCOMPARE(m.totalCount(), 200);
        m.clearFilters();
        QCOMPARE(m.refusalFilter(), QString());
    }

    // The detail pane shows a request, not a row number: filters and new rows move its row,
    // and a filter that leaves it out clears the selection (the pane closes).
    void selectionFollowsTheRequest()
    {
        ActivityModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QTRY_COMPARE(m.totalCount(), kRows);
        QCOMPARE(idAt(m, 10), idOf(989));
        QSignalSpy changed(&m, &ActivityModel::selectedChanged);
        m.setSelectedRequest(idOf(989));
        QCOMPARE(m.selectedRow(), 10); // a loaded row: known at once
        QCOMPARE(changed.size(), 1);
        m.setKeyFilter(QStringLiteral("beta")); // odd rows: 999, 997, 995, 993, 991, 989
        QTRY_VERIFY(!m.loading());
        QCOMPARE(m.selectedRequest(), idOf(989));
        QCOMPARE(m.selectedRow(), 5);
        QCOMPARE(idAt(m, m.selectedRow()), idOf(989));
        m.setKeyFilter(QStringLiteral("alpha")); // 989 is not an alpha request
        QTRY_VERIFY(!m.loading());
        QCOMPARE(m.selectedRow(), -1);
        QVERIFY(m.selectedRequest().isEmpty());
        m.clearFilters();
        QTRY_VERIFY(!m.loading());
        // A request that is in no cached page is located by a query.
        m.setSelectedRequest(idOf(3));
        QTRY_COMPARE(m.selectedRow(), kRows - 1 - 3);
        QCOMPARE(idAt(m, m.selectedRow()), idOf(3));
        // An id that is not in the log selects nothing.
        m.setSelectedRequest(QStringLiteral("req_nowhere"));
        QTRY_VERIFY(m.selectedRequest().isEmpty());
        QCOMPARE(m.selectedRow(), -1);
    }

    void distinctValues()
    {
        ActivityModel m(m_fx.backend.get());
        QSignalSpy spy(&m, &ActivityModel::distinctValuesChanged);
        (void)m.distinctValues(QStringLiteral("model")); // starts the scan
        QTRY_COMPARE(m.distinctValues(QStringLiteral("model")), (QStringList{"m-a", "m-b", "m-c"}));
        QVERIFY(!spy.isEmpty());
        QCOMPARE(m.distinctValues(QStringLiteral("provider")), (QStringList{"anthropic", "openai"}));
        QCOMPARE(m.distinctValues(QStringLiteral("key")), (QStringList{"alpha", "beta"}));
        QCOMPARE(m.distinctValues(QStringLiteral("upstreamModel")), QStringList());
        QCOMPARE(m.distinctValues(QStringLiteral("session")), (QStringList{"sess-a", "sess-b"}));
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression("unknown column"));
        QCOMPARE(m.distinctValues(QStringLiteral("secret")), QStringList());
    }

    void exportCsv()
    {
        ActivityModel m(m_fx.backend.get());
        QTRY_COMPARE(m.totalCount(), kRows);
        m.setKeyFilter(QStringLiteral("beta"));
        m.setModelFilter(QStringLiteral("m-a")); // odd i with i % 3 == 0: 3, 9, ..., 999
        QTRY_VERIFY(!m.loading());
        QCOMPARE(m.totalCount(), 167);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("log.csv"));
        QSignalSpy finished(&m, &ActivityModel::exportFinished);
        QVERIFY(m.exportCsv(QUrl::fromLocalFile(path)));
        QTRY_COMPARE(finished.size(), 1);
        QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(finished.at(0).at(1).toString()));
        QCOMPARE(finished.at(0).at(2).toInt(), 167);
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = f.readAll().split('\n');
        QCOMPARE(lines.size(), 1 + 167 + 1); // header, rows, the empty piece after the last CRLF
        QVERIFY(lines[0].startsWith("request_id,started_at,key,model,provider"));
        QVERIFY2(lines[1].startsWith("req_0999,2023-11-14T"), lines[1].constData());
        QVERIFY(lines[1].contains(",beta,m-a,anthropic,"));
        QVERIFY(lines[1].contains(",0.999000000,"));
        QVERIFY(!m.exportCsv(QUrl::fromLocalFile(dir.filePath(QStringLiteral("missing/dir/x.csv")))));

        // JSON Lines, the same rows; progress ends at 1.
        const QString jsonl = dir.filePath(QStringLiteral("log.jsonl"));
        QVERIFY(!m.exportTo(QUrl::fromLocalFile(jsonl), QStringLiteral("xml")));
        QVERIFY(m.exportTo(QUrl::fromLocalFile(jsonl), QStringLiteral("jsonl")));
        QTRY_COMPARE(finished.size(), 3); // the failed open above reported too
        QVERIFY2(finished.at(2).at(0).toBool(), qPrintable(finished.at(2).at(1).toString()));
        QCOMPARE(m.exportProgress(), 1.0);
        QFile j(jsonl);
        QVERIFY(j.open(QIODevice::ReadOnly));
        const QList<QByteArray> objects = j.readAll().trimmed().split('\n');
        QCOMPARE(objects.size(), 167);
        const QJsonObject first = QJsonDocument::fromJson(objects.first()).object();
        QCOMPARE(first.value(QStringLiteral("request_id")).toString(), QStringLiteral("req_0999"));
        QCOMPARE(first.value(QStringLiteral("key")).toString(), QStringLiteral("beta"));
        QCOMPARE(first.value(QStringLiteral("cost_usd")).toString(), QStringLiteral("0.999000000"));
    }

    // Requests committed while the model is open appear at the top without moving cached rows.
    void liveRows()
    {
        ActivityModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QTRY_COMPARE(m.totalCount(), kRows);
        QCOMPARE(idAt(m, 0), idOf(999));
        QCOMPARE(idAt(m, 500), idOf(499));
        const int cached = m.cachedPages();
        m.setSelectedRequest(idOf(499));
        QCOMPARE(m.selectedRow(), 500);
        QSignalSpy inserted(&m, &QAbstractItemModel::rowsInserted);
        m_fx.append({row(1000), row(1001), row(1002)});
        QTRY_COMPARE(m.totalCount(), kRows + 3);
        QCOMPARE(inserted.size(), 1);
        QCOMPARE(inserted.at(0).at(1).toInt(), 0);
        QCOMPARE(inserted.at(0).at(2).toInt(), 2);
        QCOMPARE(idAt(m, 0), idOf(1002));
        QCOMPARE(idAt(m, 3), idOf(999));
        QVERIFY(m.cachedPages() >= cached - 1); // only the partial top page was dropped
        QCOMPARE(idAt(m, 503), idOf(499));
        QCOMPARE(m.selectedRow(), 503); // the selection moved down with its request
        // A long request that started before others finishes last: it lands in the middle.
        RequestRecord late = record(QStringLiteral("req_late"), kBase + 500'500, 1, "alpha", "m-a", "openai", 0.5);
        m_fx.append({late});
        QTRY_COMPARE(m.totalCount(), kRows + 4);
        QCOMPARE(idAt(m, 0), idOf(1002));
        QCOMPARE(idAt(m, 501), idOf(501));
        QCOMPARE(idAt(m, 502), QStringLiteral("req_late"));
        QCOMPARE(idAt(m, 503), idOf(500));
        QCOMPARE(idAt(m, kRows + 3), idOf(0));
        QCOMPARE(m.selectedRow(), 504);
        QCOMPARE(idAt(m, m.selectedRow()), idOf(499));
        // A filter that the new rows do not match does not move.
        m.setKeyFilter(QStringLiteral("beta"));
        QTRY_VERIFY(!m.loading());
        const int beta = m.totalCount();
        m_fx.append({record(QStringLiteral("req_alpha_only"), kBase + 2'000'000, 1, "alpha", "m-a", "openai", 0.1)});
        QTest::qWait(800);
        QCOMPARE(m.totalCount(), beta);
    }

    void clearData()
    {
        ActivityModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QTRY_VERIFY(m.totalCount() > kRows);
        SettingsController settings(m_fx.backend.get());
        QSignalSpy cleared(&settings, &SettingsController::clearFinished);
        settings.clearData();
        QTRY_COMPARE(cleared.size(), 1);
        QVERIFY(cleared.at(0).at(0).toBool());
        QTRY_COMPARE(m.totalCount(), 0);
        QCOMPARE(m_fx.gateway->store().requestCount(), 0);
        QCOMPARE(m_fx.gateway->store().keys().size(), 2); // keys stay
        m_fx.append({row(5)});
        QTRY_COMPARE(m.totalCount(), 1);
        QCOMPARE(idAt(m, 0), idOf(5));
    }

    // GATEHOUSE_UI_BENCH=1: a million rows written through gh::Store, then page fetches measured.
    void millionRows()
    {
        if (qEnvironmentVariableIntValue("GATEHOUSE_UI_BENCH") == 0)
            QSKIP("set GATEHOUSE_UI_BENCH=1 to measure paging over 1,000,000 rows");
        UiFixture fx;
        constexpr int kMillion = 1'000'000;
        QElapsedTimer t;
        t.start();
        {
            Store store;
            QVERIFY(store.open(fx.dbPath()));
            for (int i = 0; i < kMillion; ++i) {
                RequestRecord r = row(i % 997);
                r.id = QStringLiteral("req_%1").arg(i, 7, 10, QLatin1Char('0'));
                r.startedAtMs = kBase + qint64(i) * 250;
                store.appendRequest(r);
            }
            store.flush();
            store.close();
        }
        qInfo("wrote %d rows through gh::Store in %lld ms", kMillion, t.elapsed());
        QVERIFY(fx.start());
        ActivityModel m(fx.backend.get());
        t.restart();
        QTRY_COMPARE_WITH_TIMEOUT(m.totalCount(), kMillion, 30000);
        qInfo("count: %lld ms", t.elapsed());
        // Time from asking for a row to its page's dataChanged (the query thread's round trip).
        auto fetch = [&m](int r) {
            QSignalSpy arrived(&m, &QAbstractItemModel::dataChanged);
            QElapsedTimer t;
            t.start();
            if (!m.data(m.index(r), ActivityModel::LoadedRole).toBool())
                arrived.wait(30000);
            return std::pair<QString, double>(
                m.data(m.index(r), ActivityModel::RequestIdRole).toString(), t.nsecsElapsed() / 1e6);
        };
        for (const int r : {0, 1000, 250'000, 499'999, 750'000, 999'999, 999'800, 500'200}) {
            const auto [id, ms] = fetch(r);
            qInfo("row %7d: %s in %.1f ms", r, qPrintable(id), ms);
            QCOMPARE(id, QStringLiteral("req_%1").arg(kMillion - 1 - r, 7, 10, QLatin1Char('0')));
        }
        // Scrolling: the next 50 pages one after another (keyset from the cached neighbour).
        double total = 0, worst = 0;
        for (int p = 1; p <= 50; ++p) {
            const auto [id, ms] = fetch(250'000 + p * ActivityModel::kPageSize);
            QVERIFY(!id.isEmpty());
            total += ms;
            worst = std::max(worst, ms);
        }
        qInfo("50 adjacent pages: %.1f ms a page on average, %.1f ms at worst", total / 50, worst);
        m.setKeyFilter(QStringLiteral("alpha"));
        t.restart();
        QTRY_VERIFY_WITH_TIMEOUT(!m.loading(), 30000);
        qInfo("filtered count (key alpha, %d rows): %lld ms", m.totalCount(), t.elapsed());
        {
            const auto [id, ms] = fetch(m.totalCount() / 2);
            QVERIFY(!id.isEmpty());
            qInfo("filtered page in the middle (OFFSET): %.1f ms", ms);
        }
        {
            const auto [id, ms] = fetch(m.totalCount() / 2 + ActivityModel::kPageSize);
            QVERIFY(!id.isEmpty());
            qInfo("filtered page next to it (keyset): %.1f ms", ms);
        }
        m.setKeyFilter(QString());
        m.setModelFilter(QStringLiteral("m-b"));
        t.restart();
        QTRY_VERIFY_WITH_TIMEOUT(!m.loading(), 30000);
        qInfo("filtered count (model, no index, %d rows): %lld ms", m.totalCount(), t.elapsed());
        {
            const auto [id, ms] = fetch(m.totalCount() / 2);
            QVERIFY(!id.isEmpty());
            qInfo("model-filtered page in the middle (OFFSET): %.1f ms", ms);
        }
    }
};

QTEST_MAIN(TestActivityModel)
#include "tst_activitymodel.moc"
