#include "connect/snippets.h"

namespace gh {

namespace {

// The wire format a tool sends, which decides the provider its model should have.
enum class ToolWire { OpenAIChat, OpenAIResponses, Anthropic, Gemini };

struct ToolInfo {
    const char *id;
    const char *title;
    ToolWire wire;
};

// Window order: the agents first, then the SDKs, then the rest.
constexpr ToolInfo kTools[] = {
    {"claude-code", "Claude Code", ToolWire::Anthropic},
    {"codex", "Codex CLI", ToolWire::OpenAIResponses},
    {"gemini-cli", "Gemini CLI", ToolWire::Gemini},
    {"openai-sdk", "OpenAI SDK", ToolWire::OpenAIChat},
    {"anthropic-sdk", "Anthropic SDK", ToolWire::Anthropic},
    {"ai-sdk", "Vercel AI SDK", ToolWire::OpenAIChat},
    {"curl", "curl", ToolWire::OpenAIChat},
    {"aider", "Aider", ToolWire::OpenAIChat},
    {"continue", "Continue", ToolWire::OpenAIChat},
    {"cursor", "Cursor", ToolWire::OpenAIChat},
};

const ToolInfo *toolInfo(const QString &id)
{
    for (const ToolInfo &t : kTools) {
        if (id == QLatin1String(t.id))
            return &t;
    }
    return nullptr;
}

std::optional<ProviderFormat> preferredFormat(ToolWire wire)
{
    switch (wire) {
    case ToolWire::Anthropic: return ProviderFormat::Anthropic;
    case ToolWire::Gemini: return ProviderFormat::Gemini;
    case ToolWire::OpenAIChat:
    case ToolWire::OpenAIResponses: return ProviderFormat::OpenAI;
    }
    return std::nullopt;
}

bool allowed(const QStringList &patterns, const QString &modelId)
{
    if (patterns.isEmpty())
        return true;
    return std::any_of(patterns.cbegin(), patterns.cend(), [&](const QString &p) { return globMatch(p, modelId); });
}

#ifdef Q_OS_WIN
QString env(const QString &name, const QString &value)
{
    return QStringLiteral("$env:%1 = \"%2\"\n").arg(name, value);
}
#else
QString env(const QString &name, const QString &value)
{
    return QStringLiteral("export %1=\"%2\"\n").arg(name, value);
}
#endif

QString comment(const QString &text)
{
    return QLatin1String("# ") + text + u'\n';
}

} // namespace

QStringList snippetTools()
{
    QStringList out;
    for (const ToolInfo &t : kTools)
        out.append(QLatin1String(t.id));
    return out;
}

QString snippetToolTitle(const QString &tool)
{
    const ToolInfo *t = toolInfo(tool);
    return t ? QLatin1String(t->title) : QString();
}

QString secretPlaceholder(const QString &keyName)
{
    return keyName.isEmpty() ? QStringLiteral("<your Gatehouse key>") : QStringLiteral("<your %1 key>").arg(keyName);
}

QString pickSnippetModel(const RegistrySnapshot &registry, const QString &tool, const QStringList &allowModels)
{
    const ToolInfo *t = toolInfo(tool);
    if (!t)
        return {};
    const auto wanted = preferredFormat(t->wire);
    // Ranks: 0 right format and priced, 1 right format, 2 translatable and priced, 3 translatable.
    // Every client format reaches every provider format (Codex's Responses requests too).
    QString best;
    int bestRank = 4;
    auto consider = [&](const QString &id) {
        const auto it = registry.models.constFind(id);
        if (it == registry.models.cend() || !it->provider || !it->provider->config.enabled || !allowed(allowModels, id))
            return;
        if (it->config.capabilities && it->config.capabilities->contains(QLatin1String("embeddings"))
            && it->config.capabilities->size() == 1)
            return; // an embeddings model answers no chat
        const bool rightFormat = wanted && it->provider->config.format == *wanted;
        const int rank = (rightFormat ? 0 : 2) + (it->config.price.isPriced() ? 0 : 1);
        if (rank < bestRank) {
            bestRank = rank;
            best = id;
        }
    };
    // A model the key names exactly comes first, in the key's order; then the registry's (sorted).
    for (const QString &p : allowModels) {
        if (!p.contains(u'*') && !p.contains(u'?'))
            consider(p);
    }
    if (bestRank > 0) {
        for (const QString &id : registry.modelOrder)
            consider(id);
    }
    return best;
}

// long-function: a flat table, one case per tool, each the literal setup text that tool reads; the
// cases share nothing but the model, URL and key they fill in.
ConnectSnippet connectSnippet(const RegistrySnapshot &registry, const ConnectRequest &request)
{
    ConnectSnippet out;
    const ToolInfo *t = toolInfo(request.tool);
    if (!t) {
        out.error = QStringLiteral("unknown tool '%1'; one of: %2").arg(request.tool, snippetTools().join(QLatin1String(", ")));
        return out;
    }
    out.ok = true;
    out.model = request.model.isEmpty() ? pickSnippetModel(registry, request.tool, request.allowModels) : request.model;
    const QString model = out.model.isEmpty() ? QStringLiteral("<a model id from /v1/models>") : out.model;
    const QString origin = request.origin;
    const QString base = origin + QStringLiteral("/v1");
    const QString key = request.secret.isEmpty() ? secretPlaceholder(request.keyName) : request.secret;
    QString &s = out.text;
    if (out.model.isEmpty())
        s += comment(QStringLiteral("This key reaches no model yet: add a provider and a model, or allow one for the key."));

    if (request.tool == QLatin1String("claude-code")) {
        // ANTHROPIC_AUTH_TOKEN (sent as "Authorization: Bearer") is used without the interactive
        // "use this API key?" question that ANTHROPIC_API_KEY raises. Claude Code asks for its own
        // model names in four slots (main, and the opus/sonnet/haiku aliases its subagents and
        // background tasks use); each is set so every request names a model this key reaches.
        s += env(QStringLiteral("ANTHROPIC_BASE_URL"), origin);
        s += env(QStringLiteral("ANTHROPIC_AUTH_TOKEN"), key);
        s += env(QStringLiteral("ANTHROPIC_MODEL"), model);
        s += env(QStringLiteral("ANTHROPIC_DEFAULT_OPUS_MODEL"), model);
        s += env(QStringLiteral("ANTHROPIC_DEFAULT_SONNET_MODEL"), model);
        s += env(QStringLiteral("ANTHROPIC_DEFAULT_HAIKU_MODEL"), model);
        s += QStringLiteral("claude\n");
    } else if (request.tool == QLatin1String("codex")) {
        // Codex 0.17x speaks only the Responses API (wire_api "chat" makes it refuse to start).
        s += QStringLiteral("# ~/.codex/config.toml\n"
                            "model = \"%1\"\n"
                            "model_provider = \"gatehouse\"\n"
                            "\n"
                            "[model_providers.gatehouse]\n"
                            "name = \"Gatehouse\"\n"
                            "base_url = \"%2\"\n"
                            "env_key = \"GATEHOUSE_API_KEY\"\n"
                            "wire_api = \"responses\"\n"
                            "\n"
                            "# then, in your shell:\n")
                 .arg(model, base);
        s += env(QStringLiteral("GATEHOUSE_API_KEY"), key);
        s += QStringLiteral("codex\n");
    } else if (request.tool == QLatin1String("gemini-cli")) {
        // Gemini CLI 0.61 takes GOOGLE_GEMINI_BASE_URL alone as its "gateway" sign-in, which its
        // headless mode refuses ("Invalid auth method selected"): the API-key sign-in is chosen in
        // its settings, and the key is sent as x-goog-api-key. The model name goes in the URL
        // (/v1beta/models/<id>:generateContent), so any model id of Gatehouse works.
        s += QStringLiteral("# ~/.gemini/settings.json (merge into yours)\n"
                            "{\"security\": {\"auth\": {\"selectedType\": \"gemini-api-key\"}}}\n"
                            "\n"
                            "# then, in your shell:\n");
        s += env(QStringLiteral("GOOGLE_GEMINI_BASE_URL"), origin);
        s += env(QStringLiteral("GEMINI_API_KEY"), key);
        s += env(QStringLiteral("GEMINI_MODEL"), model);
        s += QStringLiteral("gemini\n");
    } else if (request.tool == QLatin1String("openai-sdk")) {
        s += env(QStringLiteral("OPENAI_BASE_URL"), base);
        s += env(QStringLiteral("OPENAI_API_KEY"), key);
        s += comment(QStringLiteral("then, e.g. in Python or JavaScript: client.chat.completions.create(model=\"%1\", ...)").arg(model));
    } else if (request.tool == QLatin1String("anthropic-sdk")) {
        // The SDKs append /v1/messages to the base URL themselves.
        s += env(QStringLiteral("ANTHROPIC_BASE_URL"), origin);
        s += env(QStringLiteral("ANTHROPIC_API_KEY"), key);
        s += comment(QStringLiteral("then, e.g. in Python or JavaScript: client.messages.create(model=\"%1\", max_tokens=1024, ...)").arg(model));
    } else if (request.tool == QLatin1String("ai-sdk")) {
        // A model of an Anthropic-format provider goes through @ai-sdk/anthropic, passed through
        // untranslated (its cache_control and thinking as sent); its base URL includes /v1, unlike
        // the Anthropic SDK's. Any other model through @ai-sdk/openai's .chat(): Chat Completions,
        // which every provider behind Gatehouse serves untranslated when it speaks OpenAI's format.
        const auto it = registry.models.constFind(out.model);
        const bool anthropic = it != registry.models.cend() && it->provider
            && it->provider->config.format == ProviderFormat::Anthropic;
        s += comment(QStringLiteral("in your shell:"));
        s += env(QStringLiteral("GATEHOUSE_API_KEY"), key);
        if (anthropic) {
            s += QStringLiteral("\n"
                                "// app.mjs (npm install ai @ai-sdk/anthropic)\n"
                                "import { createAnthropic } from '@ai-sdk/anthropic';\n"
                                "import { generateText } from 'ai';\n"
                                "\n"
                                "const gatehouse = createAnthropic({ baseURL: '%1', apiKey: process.env.GATEHOUSE_API_KEY });\n"
                                "const { text } = await generateText({ model: gatehouse('%2'), prompt: 'Hello!' });\n"
                                "console.log(text);\n")
                     .arg(base, model);
        } else {
            s += QStringLiteral("\n"
                                "// app.mjs (npm install ai @ai-sdk/openai)\n"
                                "import { createOpenAI } from '@ai-sdk/openai';\n"
                                "import { generateText } from 'ai';\n"
                                "\n"
                                "const gatehouse = createOpenAI({ baseURL: '%1', apiKey: process.env.GATEHOUSE_API_KEY });\n"
                                "const { text } = await generateText({ model: gatehouse.chat('%2'), prompt: 'Hello!' });\n"
                                "console.log(text);\n")
                     .arg(base, model);
        }
    } else if (request.tool == QLatin1String("curl")) {
        s += QStringLiteral("curl %1/chat/completions \\\n"
                            "  -H \"Authorization: Bearer %2\" \\\n"
                            "  -H \"Content-Type: application/json\" \\\n"
                            "  -d '{\"model\": \"%3\", \"messages\": [{\"role\": \"user\", \"content\": \"Hello!\"}]}'\n")
                 .arg(base, key, model);
    } else if (request.tool == QLatin1String("aider")) {
        s += env(QStringLiteral("OPENAI_API_BASE"), base);
        s += env(QStringLiteral("OPENAI_API_KEY"), key);
        s += QStringLiteral("aider --model openai/%1\n").arg(model);
    } else if (request.tool == QLatin1String("continue")) {
        s += QStringLiteral("# ~/.continue/config.yaml\n"
                            "name: Gatehouse\n"
                            "version: 1.0.0\n"
                            "schema: v1\n"
                            "models:\n"
                            "  - name: %1 (Gatehouse)\n"
                            "    provider: openai\n"
                            "    model: %1\n"
                            "    apiBase: %2\n"
                            "    apiKey: %3\n"
                            "    roles: [chat, edit, apply]\n")
                 .arg(model, base, key);
    } else if (request.tool == QLatin1String("cursor")) {
        s += QStringLiteral("# Cursor: Settings > Models\n"
                            "#   OpenAI API Key:            %1\n"
                            "#   Override OpenAI Base URL:  %2\n"
                            "#   Add model:                 %3\n"
                            "# Cursor may send these requests from its own servers rather than from this computer:\n"
                            "# if it cannot connect, the base URL has to be reachable from the internet (a tunnel).\n")
                 .arg(key, base, model);
    }
    return out;
}

} // namespace gh
