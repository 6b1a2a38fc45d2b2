// mock_upstream [--port N] [--threads N] [--record N] [--models a,b,c] [--max-body BYTES] [--as KIND]
// A fake OpenAI-, Anthropic- and Gemini-format provider for the integration tests and benchmarks;
// see mockserver.h.
#include "localservers.h"
#include "mockserver.h"
#include "mockstate.h"
#include "requestlog.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QHostAddress>

#include <csignal>
#include <cstdio>

int main(int argc, char *argv[])
{
#ifdef Q_OS_UNIX
    std::signal(SIGPIPE, SIG_IGN);
#endif
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("mock_upstream"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("A fake OpenAI/Anthropic/Gemini upstream that misbehaves on demand."));
    parser.addHelpOption();
    const QCommandLineOption portOpt(QStringLiteral("port"), QStringLiteral("Port on 127.0.0.1 (0: a free one)."),
                                     QStringLiteral("N"), QStringLiteral("0"));
    const QCommandLineOption threadsOpt(QStringLiteral("threads"), QStringLiteral("Worker threads (1: serve on the main thread)."),
                                        QStringLiteral("N"), QStringLiteral("1"));
    const QCommandLineOption recordOpt(QStringLiteral("record"),
                                       QStringLiteral("Keep the last N requests for /_mock/requests (0: none)."),
                                       QStringLiteral("N"), QStringLiteral("10000"));
    const QCommandLineOption modelsOpt(QStringLiteral("models"), QStringLiteral("Model ids listed by GET /models."),
                                       QStringLiteral("a,b,c"),
                                       QStringLiteral("ok,stream-slow,fail-500,fail-429,no-usage,gpt-4.1-mini"));
    const QCommandLineOption maxBodyOpt(QStringLiteral("max-body"),
                                        QStringLiteral("Answer 413 early to bodies larger than this (0: no limit)."),
                                        QStringLiteral("BYTES"), QStringLiteral("0"));
    const QCommandLineOption asOpt(QStringLiteral("as"),
                                   QStringLiteral("Also look like a local model server: ollama, lmstudio, llamacpp, vllm or jan."),
                                   QStringLiteral("KIND"));
    parser.addOptions({portOpt, threadsOpt, recordOpt, modelsOpt, maxBodyOpt, asOpt});
    parser.process(app);

    bool ok = false;
    const uint port = parser.value(portOpt).toUInt(&ok);
    if (!ok || port > 65535) {
        std::fprintf(stderr, "mock_upstream: --port: not a port number: %s\n", qPrintable(parser.value(portOpt)));
        return 2;
    }
    const int threads = parser.value(threadsOpt).toInt(&ok);
    if (!ok || threads < 1 || threads > 64) {
        std::fprintf(stderr, "mock_upstream: --threads: expected 1..64\n");
        return 2;
    }
    const int record = parser.value(recordOpt).toInt(&ok);
    if (!ok || record < 0) {
        std::fprintf(stderr, "mock_upstream: --record: expected a count >= 0\n");
        return 2;
    }

    const qint64 maxBody = parser.value(maxBodyOpt).toLongLong(&ok);
    if (!ok || maxBody < 0) {
        std::fprintf(stderr, "mock_upstream: --max-body: expected a byte count >= 0\n");
        return 2;
    }

    const QByteArray localKind = parser.value(asOpt).toLatin1();
    if (!localKind.isEmpty() && !gh::mock::isLocalServerKind(localKind)) {
        std::fprintf(stderr, "mock_upstream: --as: expected ollama, lmstudio, llamacpp, vllm or jan\n");
        return 2;
    }
    gh::mock::RequestLog log(record);
    gh::mock::MockState state;
    gh::mock::ServerConfig config;
    config.log = &log;
    config.state = &state;
    config.maxBodyBytes = maxBody;
    config.localKind = localKind;
    for (const QString &m : parser.value(modelsOpt).split(QLatin1Char(','), Qt::SkipEmptyParts))
        config.models.append(m.trimmed().toUtf8());

    gh::mock::MockServer server(&config, threads);
    if (!server.listen(QHostAddress::LocalHost, static_cast<quint16>(port))) {
        std::fprintf(stderr, "mock_upstream: cannot listen on 127.0.0.1:%u: %s\n", port,
                     qPrintable(server.errorString()));
        return 1;
    }
    std::printf("mock upstream listening on http://127.0.0.1:%u\n", static_cast<unsigned>(server.serverPort()));
    std::fflush(stdout);
    return QCoreApplication::exec();
}
