// The team store's libpq forwarders (app/store/pqlazy.cpp) when libpq cannot be loaded: built here
// with a library name that does not exist (GATEHOUSE_LIBPQ_SONAME, tests/CMakeLists.txt). Every
// call answers as libpq does for a connection that failed, nothing crashes, and the error message
// says which library is missing, so a team store reports "cannot connect to ...: <why>".
#include <libpq-fe.h>
#include <QTest>

class TestLazyLibpqMissing : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void connectingFailsWithTheReason()
    {
        const char *keys[] = {"dbname", nullptr};
        const char *values[] = {"postgres://gatehouse@127.0.0.1:1/gatehouse", nullptr};
        PGconn *conn = PQconnectdbParams(keys, values, 1);
        QVERIFY(!conn);
        QCOMPARE(PQstatus(conn), CONNECTION_BAD);
        const QByteArray why(PQerrorMessage(conn));
        QVERIFY2(why.contains("the PostgreSQL client library (libgatehouse-no-such-libpq.so.5) could not be loaded"),
            why.constData());
        QVERIFY(!PQconnectdb("dbname=gatehouse"));
        QCOMPARE(PQping("dbname=gatehouse"), PQPING_NO_ATTEMPT);
    }

    void everyOtherCallAnswersAsForAFailedConnection()
    {
        QVERIFY(!PQexec(nullptr, "SELECT 1"));
        PGresult *res = PQexecParams(nullptr, "SELECT $1", 1, nullptr, nullptr, nullptr, nullptr, 0);
        QVERIFY(!res);
        QCOMPARE(PQresultStatus(res), PGRES_FATAL_ERROR);
        QVERIFY(QByteArray(PQresultErrorMessage(res)).contains("could not be loaded"));
        QVERIFY(!PQresultErrorField(res, PG_DIAG_SQLSTATE));
        QCOMPARE(PQntuples(res), 0);
        QCOMPARE(PQnfields(res), 0);
        QCOMPARE(PQgetisnull(res, 0, 0), 1);
        QCOMPARE(QByteArray(PQgetvalue(res, 0, 0)), QByteArray());
        QCOMPARE(QByteArray(PQcmdTuples(res)), QByteArray());
        QCOMPARE(PQsocket(nullptr), -1);
        QCOMPARE(PQbackendPID(nullptr), 0);
        QCOMPARE(PQconsumeInput(nullptr), 0);
        QVERIFY(!PQnotifies(nullptr));
        QVERIFY(!PQsetNoticeProcessor(nullptr, nullptr, nullptr));
        PQclear(res);
        PQfreemem(nullptr);
        PQreset(nullptr);
        PQfinish(nullptr);
    }
};

QTEST_GUILESS_MAIN(TestLazyLibpqMissing)
#include "lazylibpq_missing.moc"
