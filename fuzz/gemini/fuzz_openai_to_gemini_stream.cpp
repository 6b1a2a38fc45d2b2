// OpenAI chunks -> Gemini streamGenerateContent chunks: every event is one `data:` line holding a
// JSON object (candidates, or an error), and the stream ends once.
#include "fuzzcommon.h"
#include "formats/gemini/geminiinbound.h"
#include <QJsonDocument>
#include <QJsonObject>

void fuzz::one(const QByteArray &input)
{
    auto t = gh::openAIToGeminiStream(QStringLiteral("client-model"));
    const QByteArray out = fuzz::feedStream(*t, input);
    fuzz::check(t->ended(), "the stream ended");
    for (const QByteArray &event : out.split('\n')) {
        if (event.isEmpty())
            continue;
        fuzz::check(event.startsWith("data: "), "only data lines", QString::fromUtf8(event), out);
        QJsonParseError pe;
        const QJsonDocument doc = QJsonDocument::fromJson(event.mid(6), &pe);
        const bool shaped = doc.isObject() && (doc.object().contains(QLatin1String("candidates")) || doc.object().contains(QLatin1String("error")));
        fuzz::check(pe.error == QJsonParseError::NoError && shaped, "a Gemini chunk or error", pe.errorString(), out);
    }
}
