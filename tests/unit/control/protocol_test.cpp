// The envelope (protocol.hpp) and the registry's dispatch and argument helpers, without sockets.
#include <gtest/gtest.h>

#include "control/command_registry.hpp"
#include "control/protocol.hpp"
#include "tests/unit/control/control_test_util.hpp"

namespace dpdock::control::test {
namespace {

TEST(Protocol, MalformedJsonNamesTheByte) {
    auto parsed = parse_json_line(R"({"cmd": nope})");
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.message().rfind("malformed JSON at byte 10", 0), 0u) << parsed.message();
}

TEST(Protocol, NumberBeyondDoubleRangeIsAnErrorNotAnException) {
    auto parsed = parse_json_line(R"({"cmd":1e999})");
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.message(), "malformed JSON: number overflow parsing '1e999'");
}

TEST(Protocol, NestingIsBounded) {
    const auto nested = [](std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
    EXPECT_TRUE(parse_json_line(nested(kMaxJsonDepth)));
    auto deep = parse_json_line(nested(kMaxJsonDepth + 1));
    ASSERT_FALSE(deep);
    EXPECT_EQ(deep.message(), "malformed JSON: nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    EXPECT_FALSE(parse_json_line(nested(250000)));
    // Brackets inside strings are text, not nesting.
    EXPECT_TRUE(parse_json_line("[\"" + std::string(1000, '[') + "\\\"\"]"));
}

TEST(Protocol, EnvelopeErrors) {
    EXPECT_EQ(parse_request(json::array()).message(), "request must be an object");
    EXPECT_EQ(parse_request(json{{"args", json::object()}}).message(), "missing \"cmd\"");
    EXPECT_EQ(parse_request(json{{"cmd", 3}}).message(), "\"cmd\" must be a string");
    EXPECT_EQ(parse_request(json{{"cmd", "x"}, {"args", json::array()}}).message(), "\"args\" must be an object");
    EXPECT_EQ(parse_request(json{{"cmd", "x"}, {"id", 1}}).message(), "unknown request field \"id\"");
}

TEST(Protocol, ArgsDefaultToEmptyObject) {
    auto parsed = parse_request(json{{"cmd", "x"}});
    ASSERT_TRUE(parsed) << parsed.message();
    EXPECT_EQ(parsed->cmd, "x");
    EXPECT_EQ(parsed->args, json::object());
}

TEST(Protocol, ResponsesRoundTrip) {
    const std::string ok = encode_line(ok_response({{"a", 1}}));
    EXPECT_EQ(ok, "{\"ok\":true,\"result\":{\"a\":1}}\n");
    auto result = parse_response(ok.substr(0, ok.size() - 1));
    ASSERT_TRUE(result) << result.message();
    EXPECT_EQ((*result)["a"], 1);

    auto error = parse_response(encode_line(error_response("no such network")));
    ASSERT_FALSE(error);
    EXPECT_EQ(error.message(), "no such network");
    EXPECT_FALSE(parse_response("[1]"));
    EXPECT_FALSE(parse_response("{\"ok\":tru"));
}

TEST(Protocol, InvalidUtf8InAResultIsReplacedNotThrown) {
    const std::string line = encode_line(ok_response(std::string("a\xff") + "b"));
    EXPECT_EQ(line, "{\"ok\":true,\"result\":\"a\xEF\xBF\xBD" "b\"}\n");
}

class RegistryTest : public ::testing::Test {
protected:
    RegistryTest() { register_test_commands(registry_); }
    json call(const json& request) { return registry_.dispatch(request); }
    CommandRegistry registry_;
};

TEST_F(RegistryTest, DispatchesToTheHandler) {
    EXPECT_EQ(call({{"cmd", "echo"}, {"args", {{"k", "v"}}}}), json({{"ok", true}, {"result", {{"k", "v"}}}}));
}

TEST_F(RegistryTest, UnknownCommand) {
    EXPECT_EQ(call({{"cmd", "nope"}}), json({{"ok", false}, {"error", "unknown command \"nope\""}}));
}

TEST_F(RegistryTest, HandlerErrorBecomesResponse) {
    EXPECT_EQ(call({{"cmd", "fail"}}), json({{"ok", false}, {"error", "it failed"}}));
}

TEST_F(RegistryTest, JsonExceptionInHandlerBecomesReadableError) {
    const json response = call({{"cmd", "careless"}, {"args", {{"n", "seven"}}}});
    EXPECT_EQ(response["ok"], false);
    const std::string message = response["error"];
    EXPECT_EQ(message.rfind("invalid arguments for \"careless\": ", 0), 0u) << message;
    EXPECT_EQ(message.find("[json.exception"), std::string::npos) << message;
    EXPECT_EQ(call({{"cmd", "careless"}, {"args", {{"n", 7}}}})["result"], 8);
}

TEST_F(RegistryTest, HelpListsEveryCommand) {
    const json response = call({{"cmd", "help"}});
    ASSERT_EQ(response["ok"], true);
    std::vector<std::string> names;
    for (const auto& c : response["result"]["commands"]) names.push_back(c["name"]);
    EXPECT_EQ(names, (std::vector<std::string>{"big", "careless", "echo", "fail", "help", "whoami"}));
    EXPECT_EQ(response["result"]["commands"][2]["summary"], "returns its arguments");
    EXPECT_EQ(call({{"cmd", "help"}, {"args", {{"x", 1}}}})["error"],
              "unknown argument \"x\" (this command takes no arguments)");
}

TEST(ArgHelpers, RequireString) {
    const json args = {{"name", "net1"}, {"mtu", 1500}};
    EXPECT_EQ(*require_string(args, "name"), "net1");
    EXPECT_EQ(require_string(args, "mtu").message(), "argument \"mtu\" must be a string");
    EXPECT_EQ(require_string(args, "driver").message(), "missing argument \"driver\"");
}

TEST(ArgHelpers, Integers) {
    const json args = {{"mtu", 1500}, {"neg", -3}, {"huge", 18446744073709551615ull}, {"f", 1.5}, {"s", "1"}};
    EXPECT_EQ(*require_int(args, "mtu"), 1500);
    EXPECT_EQ(*require_int(args, "neg"), -3);
    EXPECT_EQ(require_int(args, "huge").message(), "argument \"huge\" must be an integer");
    EXPECT_EQ(require_int(args, "f").message(), "argument \"f\" must be an integer");
    EXPECT_EQ(optional_int(args, "s").message(), "argument \"s\" must be an integer");
    EXPECT_EQ(**optional_int(args, "mtu"), 1500);
    EXPECT_FALSE(optional_int(args, "absent")->has_value());
}

TEST(ArgHelpers, OptionalsTreatNullAsAbsent) {
    const json args = {{"s", nullptr}, {"b", true}, {"t", "yes"}};
    EXPECT_FALSE(optional_string(args, "s")->has_value());
    EXPECT_EQ(**optional_bool(args, "b"), true);
    EXPECT_EQ(optional_bool(args, "t").message(), "argument \"t\" must be true or false");
    EXPECT_EQ(optional_string(args, "b").message(), "argument \"b\" must be a string");
}

TEST(ArgHelpers, RejectUnknownKeys) {
    const json args = {{"name", "n"}, {"subnet", "10.0.0.0/24"}};
    EXPECT_TRUE(reject_unknown_keys(args, {"name", "subnet", "gateway"}));
    EXPECT_EQ(reject_unknown_keys(args, {"name", "gateway"}).message(),
              "unknown argument \"subnet\" (allowed: name, gateway)");
    EXPECT_EQ(reject_unknown_keys(json::array(), {}).message(), "arguments must be an object");
}

}  // namespace
}  // namespace dpdock::control::test
