// The audit trail's view model and the captured bodies' view (Settings, Activity) against a real
// in-process gateway and its SQLite file: changes made through the window's models are recorded
// with origin "window" and old → new values, never a secret; the trail exports as CSV and JSON
// Lines; "delete everything about a key" from the Keys page; a captured request's bodies highlighted.
#include "auditmodel.h"
#include "capture/bodycapture.h"
#include "captureview.h"
#include "keysmodel.h"
#include "uitestfixture.h"
#include <QAbstractItemModelTester>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTest>

using namespace gh;
using namespace gh::ui;
using namespace gh::ui::test;

class TestAuditModel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void changesInTheWindowAreRecordedWithoutSecrets()
    {
        UiFixture f;
        QVERIFY(f.prepare({}, {}));
        QVERIFY(f.start());
        KeysModel keys(f.backend.get());
        const QString secret = keys.createKey(QStringLiteral("scripts"), QString());
        QVERIFY(!secret.isEmpty());
        const qint64 id = f.gateway->store().keyByName(QStringLiteral("scripts"))->id;
        QVERIFY(keys.setLimit(id, QStringLiteral("day"), 5));
        QVERIFY(keys.setPaused(id, true));
        QVERIFY(keys.revoke(id));

        AuditModel audit(f.backend.get());
        QAbstractItemModelTester tester(&audit, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QStringList actions;
        for (int row = 0; row < audit.rowCount(); ++row)
            actions.append(audit.data(audit.index(row), AuditModel::ActionRole).toString());
        // Newest first.
        QCOMPARE(actions.mid(0, 4), (QStringList{QStringLiteral("key.revoke"), QStringLiteral("key.pause"), QStringLiteral("key.limits"),
                                                QStringLiteral("key.create")}));
        const QModelIndex limits = audit.index(2);
        QCOMPARE(audit.data(limits, AuditModel::OriginRole).toString(), QStringLiteral("window"));
        QCOMPARE(audit.data(limits, AuditModel::SubjectRole).toString(), QStringLiteral("scripts"));
        QCOMPARE(audit.data(limits, AuditModel::OldValueRole).toString(), QStringLiteral(R"({"day_usd":null})"));
        QCOMPARE(audit.data(limits, AuditModel::NewValueRole).toString(), QStringLiteral(R"({"day_usd":5})"));
        QCOMPARE(audit.data(limits, AuditModel::SummaryRole).toString(), QStringLiteral("day_usd: none → 5"));
        // Neither the secret nor anything of its hash or hint.
        for (int row = 0; row < audit.rowCount(); ++row) {
            const QString both = audit.data(audit.index(row), AuditModel::OldValueRole).toString()
                + audit.data(audit.index(row), AuditModel::NewValueRole).toString();
            QVERIFY(!both.contains(secret));
            QVERIFY(!both.contains(QLatin1String("secret_hash")) && !both.contains(QLatin1String("hint")));
        }

        // Exports: CSV with a header and a row per change, JSON Lines with objects.
        QTemporaryDir out;
        QSignalSpy finished(&audit, &AuditModel::exportFinished);
        QVERIFY(audit.exportTo(QUrl::fromLocalFile(out.filePath(QStringLiteral("a.csv"))), QStringLiteral("csv")));
        QVERIFY(audit.exportTo(QUrl::fromLocalFile(out.filePath(QStringLiteral("a.jsonl"))), QStringLiteral("jsonl")));
        QVERIFY(!audit.exportTo(QUrl::fromLocalFile(out.filePath(QStringLiteral("a.xml"))), QStringLiteral("xml")));
        QCOMPARE(finished.count(), 3);
        QFile csv(out.filePath(QStringLiteral("a.csv")));
        QVERIFY(csv.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = csv.readAll().trimmed().split('\n');
        QCOMPARE(lines.first(), QByteArray("time_utc,origin,action,subject,old_value,new_value"));
        QCOMPARE(lines.size(), audit.rowCount() + 1);
        QVERIFY(lines.at(3).contains(",window,key.limits,scripts,\"{\"\"day_usd\"\":null}\",\"{\"\"day_usd\"\":5}\""));
        QFile jsonl(out.filePath(QStringLiteral("a.jsonl")));
        QVERIFY(jsonl.open(QIODevice::ReadOnly));
        const QList<QByteArray> objects = jsonl.readAll().trimmed().split('\n');
        QCOMPARE(objects.size(), audit.rowCount());
        const QJsonObject first = QJsonDocument::fromJson(objects.first()).object();
        QCOMPARE(first.value(QLatin1String("action")).toString(), QStringLiteral("key.revoke"));
        QCOMPARE(first.value(QLatin1String("new")).toObject().value(QLatin1String("revoked")).toBool(), true);
    }

    void pauseAllAndResumeAreRecorded()
    {
        UiFixture f;
        QVERIFY(f.prepare({}, {}));
        QVERIFY(f.start());
        QVERIFY(f.gateway->store().recordChange(QStringLiteral("gateway.pause"), QStringLiteral("all keys"),
                                                QJsonObject{{QStringLiteral("paused"), false}}, QJsonObject{{QStringLiteral("paused"), true}}));
        AuditModel audit(f.backend.get());
        QCOMPARE(audit.data(audit.index(0), AuditModel::SummaryRole).toString(), QStringLiteral("paused: no → yes"));
    }

    void forgetKeyFromTheKeysPage()
    {
        UiFixture f;
        StoredKey doomed = key(1, QStringLiteral("doomed"));
        doomed.secretHash = QByteArray(32, 'd');
        StoredKey kept = key(2, QStringLiteral("kept"));
        kept.secretHash = QByteArray(32, 'k');
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        QVERIFY(f.prepare({doomed, kept}, {record(QStringLiteral("req_a"), now - 1000, 1, QStringLiteral("doomed"), QStringLiteral("m/x"), QStringLiteral("m"), 0.5),
                                           record(QStringLiteral("req_b"), now - 900, 2, QStringLiteral("kept"), QStringLiteral("m/x"), QStringLiteral("m"), 0.25)}));
        QVERIFY(f.start());
        // A capture of the doomed key's request, as the gateway writes them.
        QVERIFY(f.gateway->capture());
        f.gateway->capture()->submit(CapturedExchange{QStringLiteral("req_a"), 1, QStringLiteral("doomed"), now - 1000, 7,
                                                      R"({"model":"m/x","messages":[]})", R"({"id":"c1","choices":[]})", "application/json", false});
        f.gateway->capture()->flush();
        QVERIFY(BodyCapture::read(BodyCapture::pathIn(f.dataDir()), QStringLiteral("req_a")));

        KeysModel keys(f.backend.get());
        QVERIFY(keys.forgetKey(999).isEmpty());
        QVERIFY(!keys.lastError().isEmpty());
        const QString summary = keys.forgetKey(1);
        QVERIFY2(summary.contains(QLatin1String("1 request(s)")) && summary.contains(QLatin1String("1 captured exchange(s)")), qPrintable(summary));
        QCOMPARE(keys.rowCount(), 1);
        QVERIFY(!f.gateway->store().request(QStringLiteral("req_a")));
        QVERIFY(f.gateway->store().request(QStringLiteral("req_b")));
        QVERIFY(!BodyCapture::read(BodyCapture::pathIn(f.dataDir()), QStringLiteral("req_a")));
        AuditModel audit(f.backend.get());
        QCOMPARE(audit.data(audit.index(0), AuditModel::ActionRole).toString(), QStringLiteral("key.delete"));
        QCOMPARE(audit.data(audit.index(0), AuditModel::OriginRole).toString(), QStringLiteral("window"));
    }

    void capturedBodiesAreShownHighlighted()
    {
        UiFixture f;
        QVERIFY(f.prepare({}, {}));
        QVERIFY(f.start());
        f.gateway->capture()->submit(CapturedExchange{QStringLiteral("req_c"), 1, QStringLiteral("k"), QDateTime::currentMSecsSinceEpoch(), 2,
                                                      R"({"model":"m/x","stream":true,"n":1,"stop":null})",
                                                      "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: [DONE]\n\n",
                                                      "text/event-stream", false});
        f.gateway->capture()->flush();
        CaptureView view;
        QSignalSpy loaded(&view, &CaptureView::loaded);
        view.setBackend(f.backend.get());
        view.setRequestId(QStringLiteral("req_c"));
        QTRY_VERIFY(!view.loading());
        QVERIFY(view.available());
        QCOMPARE(view.request(), QStringLiteral(R"({"model":"m/x","stream":true,"n":1,"stop":null})"));
        QVERIFY(view.note().startsWith(QLatin1String("Kept until")));
        const QString html = view.requestHtml();
        // Members in their order, indented, keys and values colored by kind.
        QVERIFY2(html.contains(QStringLiteral("<span style=\"color:%1\">&quot;model&quot;</span>: <span style=\"color:%2\">&quot;m/x&quot;</span>")
                                   .arg(view.property("keyColor").value<QColor>().name(), view.property("stringColor").value<QColor>().name())),
                 qPrintable(html));
        QVERIFY(html.indexOf(QLatin1String("model")) < html.indexOf(QLatin1String("stream")));
        QVERIFY(html.contains(QStringLiteral("<span style=\"color:%1\">true</span>").arg(view.property("literalColor").value<QColor>().name())));
        QVERIFY(html.contains(QStringLiteral("<span style=\"color:%1\">1</span>").arg(view.property("numberColor").value<QColor>().name())));
        QVERIFY(html.contains(QLatin1String("\n  ")));
        // A stream: one event a line, its JSON colored, [DONE] as it is.
        const QString stream = view.responseHtml();
        QVERIFY2(stream.contains(QLatin1String("&quot;content&quot;")) && stream.contains(QLatin1String("[DONE]")), qPrintable(stream));
        // Another request, not captured: nothing shown.
        view.setRequestId(QStringLiteral("req_none"));
        QTRY_VERIFY(!view.loading());
        QVERIFY(!view.available());
        QVERIFY(view.requestHtml().isEmpty());
        // Not JSON at all: escaped, never interpreted as markup.
        QVERIFY(CaptureView::highlight("<b>x</b>", {}).contains(QLatin1String("&lt;b&gt;")));
    }
};

QTEST_MAIN(TestAuditModel)
#include "tst_auditmodel.moc"
