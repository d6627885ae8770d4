--
-- PostgreSQL database dump
--


-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Data for Name: access_keys; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.access_keys (id, secret, bearer, expires, created, session_id) VALUES ('AKIAFIXTURE', 'secret', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/ann', 1764086400123, 1764000000123, 's1');
INSERT INTO public.access_keys (id, secret, bearer, expires, created, session_id) VALUES ('AKIAFOREVER', 's2', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/bob', NULL, 1764000000123, '');


--
-- Data for Name: app_instances; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.app_instances (arn, name, metadata, created, updated, retention_channel_days, retention_initiated) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture', '\x46697874757265200020617070', '\x6dc3a9746164617461', 1764000000123, 1764000000123, 30, 1764000000123);


--
-- Data for Name: admins; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.admins (app_instance_arn, admin_arn, created) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/ann', 1764000000123);


--
-- Data for Name: channels; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.channels (arn, app_instance_arn, name, mode, privacy, metadata, created_by, flow_arn, elastic_max_sub_channels, elastic_target_memberships, elastic_min_membership_pct, expiration_days, expiration_criterion, created, updated, last_message_at, membership_count) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel/elastic', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture', '\x656c61737469632000206368', 'RESTRICTED', 'PRIVATE', '\x636d', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/ann', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel-flow/flow', 10, 100, 25, 3, 'LAST_MESSAGE_TIMESTAMP', 1764000000123, 1764000000123, 1764000000123, 1);
INSERT INTO public.channels (arn, app_instance_arn, name, mode, privacy, metadata, created_by, flow_arn, elastic_max_sub_channels, elastic_target_memberships, elastic_min_membership_pct, expiration_days, expiration_criterion, created, updated, last_message_at, membership_count) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel/plain', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture', '\x706c61696e', 'UNRESTRICTED', 'PUBLIC', '\x', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/ann', '', NULL, NULL, NULL, NULL, NULL, 1764000000123, 1764000000123, NULL, 1);


--
-- Data for Name: bans; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.bans (channel_arn, member_arn, created_by, created) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel/plain', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/bob', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/ann', 1764000000123);


--
-- Data for Name: bots; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.bots (arn, app_instance_arn, name, metadata, lex, created, updated) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture/bot/lex', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture', '\x4c657820626f74', '\x626d', '{"lexBotAliasArn":"arn:aws:lex:us-east-1:123456789012:bot-alias/B/A","localeId":"en_US","respondsTo":"STANDARD_MESSAGES","welcomeIntent":"Hello","invokedBy":{"standardMessages":"AUTO","targetedMessages":"ALL"}}', 1764000000123, 1764000000123);
INSERT INTO public.bots (arn, app_instance_arn, name, metadata, lex, created, updated) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture/bot/plain', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture', '\x506c61696e20626f74', '\x', '{}', 1764000000123, 1764000000123);


--
-- Data for Name: channel_flows; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.channel_flows (arn, app_instance_arn, name, processors, created, updated) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel-flow/flow', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture', '\x666c6f772000', '[{"name":"first","lambda_arn":"arn:aws:lambda:us-east-1:123456789012:function:a","invocation_type":"ASYNC","execution_order":1,"fallback_action":"ABORT"},{"name":"second","lambda_arn":"arn:aws:lambda:us-east-1:123456789012:function:b","invocation_type":"ASYNC","execution_order":2,"fallback_action":"CONTINUE"}]', 1764000000123, 1764000000123);


--
-- Data for Name: users; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.users (arn, app_instance_arn, name, metadata, expiration_days, expiration_criterion, created, updated) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/ann', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture', '\x416e6e200020c39c6ec3af636f6465', '\x6d', 7, 'CREATED_TIMESTAMP', 1764000000123, 1764000000123);
INSERT INTO public.users (arn, app_instance_arn, name, metadata, expiration_days, expiration_criterion, created, updated) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/bob', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture', '\x426f62', '\x', NULL, NULL, 1764000000123, NULL);


--
-- Data for Name: endpoints; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.endpoints (user_arn, endpoint_id, name, type, resource_arn, device_token, voip_device_token, allow_messages, state_status, state_reason, created, updated) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/ann', 'ep1', '\x70686f6e652000', 'APNS', 'arn:aws:mobiletargeting:us-east-1:123456789012:apps/x', '\x746f6b00656e', '\x766f6970', 'ALL', 'ACTIVE', '', 1764000000123, 1764000000123);


--
-- Data for Name: idempotency; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.idempotency (scope, token, result, created) VALUES ('CreateChannel/arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/ann', 'token-1', '{"ChannelArn":"x"}', 1764000000123);


--
-- Data for Name: invocations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.invocations (callback_id, channel_arn, message_id, flow_arn, kind, step, message, state, attempts, next_attempt, deadline, created) VALUES ('cb-1', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel/elastic', 'held', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel-flow/flow', 'CREATE', 1, '{"channel_arn":"arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel/elastic","id":"held","sub_channel_id":"","sender":"arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/ann","sender_name":"Ann \u0000 Ünïcode","content":"héllo \"world\" \u0000 \u003cb\u003e\u0026\u003c/b\u003e","metadata":"meta\u0000data","content_type":"text/markdown","type":"STANDARD","persistence":"PERSISTENT","status":"SENT","status_detail":"detail","redacted":false,"attributes":{"a":["1"],"b":["2","3"]},"push":{"title":"title","body":"body\u0000","type":"VOIP"},"target":"","created":1764000000123,"updated":1764000001123,"last_edited":1764000002123,"seq":0}', 'AWAITING_CALLBACK', 2, 1764000060123, 1764003600123, 1764000000123);
INSERT INTO public.invocations (callback_id, channel_arn, message_id, flow_arn, kind, step, message, state, attempts, next_attempt, deadline, created) VALUES ('cb-2', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel/plain', 'held-bare', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel-flow/flow', 'UPDATE', 0, '{"channel_arn":"arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel/plain","id":"held-bare","sub_channel_id":"","sender":"","sender_name":"","content":"","metadata":"","content_type":"","type":"","persistence":"","status":"","status_detail":"","redacted":false,"target":"","seq":0}', 'DUE', 0, -62135596800000, -62135596800000, 1764000000123);


--
-- Data for Name: memberships; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.memberships (channel_arn, member_arn, type, invited_by, sub_channel_id, read_marker, allow_notifications, filter_rule, created, updated) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel/elastic', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/ann', 'DEFAULT', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/ann', 'sub-1', 1764000000123, 'FILTERED', '\x7b2261223a5b22785c7530303030225d7d', 1764000000123, 1764000000123);
INSERT INTO public.memberships (channel_arn, member_arn, type, invited_by, sub_channel_id, read_marker, allow_notifications, filter_rule, created, updated) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel/plain', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/bot/lex', 'HIDDEN', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/ann', '', NULL, NULL, NULL, 1764000000123, NULL);


--
-- Data for Name: messages; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.messages (seq, channel_arn, id, sub_channel_id, sender, sender_name, content, metadata, content_type, type, persistence, status, status_detail, redacted, attributes, push, target, created, updated, last_edited) VALUES (1, 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel/elastic', 'msg-full', 'sub-1', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/ann', '\x416e6e200020c39c6ec3af636f6465', '\x68c3a96c6c6f2022776f726c64222000203c623e263c2f623e', '\x6d6574610064617461', '\x746578742f6d61726b646f776e', 'STANDARD', 'PERSISTENT', 'SENT', '\x64657461696c', false, '{"a":["1"],"b":["2","3"]}', '{"title":"title","body":"body\u0000","type":"VOIP"}', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/bob', 1764000000123, 1764000001123, 1764000002123);
INSERT INTO public.messages (seq, channel_arn, id, sub_channel_id, sender, sender_name, content, metadata, content_type, type, persistence, status, status_detail, redacted, attributes, push, target, created, updated, last_edited) VALUES (2, 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel/plain', 'msg-bare', '', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/ann', '\x', '\x', '\x', '\x', 'CONTROL', 'PERSISTENT', 'SENT', '\x', false, '{}', NULL, '', 1764000000123, NULL, NULL);


--
-- Data for Name: moderators; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.moderators (channel_arn, moderator_arn, created_by, created) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel/elastic', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/ann', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/ann', 1764000000123);


--
-- Data for Name: outbox; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.outbox (seq, at, type, channel, to_members, recipients, member, member_change, message_type, reason, payload, data) VALUES (1, 1764000000123, 'CREATE_CHANNEL_MESSAGE', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel/elastic', true, '["arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/ann","arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/bob"]', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/ann', 1, 'STANDARD', 'r', '\x7b2278223a317d', '\x000102ff');
INSERT INTO public.outbox (seq, at, type, channel, to_members, recipients, member, member_change, message_type, reason, payload, data) VALUES (2, 1764000000123, 'DELETE_CHANNEL', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel/plain', false, '[]', '', 0, '', '', '\x', '\x');


--
-- Data for Name: root_credentials; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: session_positions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.session_positions (user_arn, session_id, seq, hold, pending, audiences, saved, live) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/ann', 'sess-1', 5, 5, '[7,9]', '["arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel/elastic","arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel/plain"]', 1764000000123, true);
INSERT INTO public.session_positions (user_arn, session_id, seq, hold, pending, audiences, saved, live) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/bob', 'sess-2', 1, 1, '[]', '[]', 1764000000123, false);


--
-- Data for Name: stream_cursors; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.stream_cursors (app_instance_arn, resource_arn, seq) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture', 'arn:aws:kinesis:us-east-1:123456789012:stream/a', 1);
INSERT INTO public.stream_cursors (app_instance_arn, resource_arn, seq) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture', 'arn:aws:kinesis:us-east-1:123456789012:stream/b', 2);


--
-- Data for Name: streaming_configurations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.streaming_configurations (app_instance_arn, data_type, resource_arn, since) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture', 'Channel', 'arn:aws:kinesis:us-east-1:123456789012:stream/a', 1);
INSERT INTO public.streaming_configurations (app_instance_arn, data_type, resource_arn, since) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture', 'ChannelMessage', 'arn:aws:kinesis:us-east-1:123456789012:stream/b', 2);


--
-- Data for Name: sub_channels; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.sub_channels (channel_arn, id, membership_count, created) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel/elastic', 'sub-1', 1, 1764000000123);


--
-- Data for Name: sub_channel_memberships; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.sub_channel_memberships (channel_arn, sub_channel_id, member_arn, type, invited_by, created, updated) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel/elastic', 'sub-1', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/ann', 'DEFAULT', 'arn:aws:chime:us-east-1:123456789012:app-instance/fixture/user/ann', 1764000000123, 1764000000123);


--
-- Data for Name: tags; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.tags (resource_arn, key, value) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel/elastic', '\x6b00', '\x7600c3bc');
INSERT INTO public.tags (resource_arn, key, value) VALUES ('arn:aws:chime:us-east-1:123456789012:app-instance/fixture/channel/elastic', '\x656d707479', '\x');


--
-- Name: message_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.message_seq', 2, true);


--
-- PostgreSQL database dump complete
--


