// The public API of RapidSMS.ts. Nothing else is public.

export { AppBase, type AppClass, type IncomingPhase } from "./apps/app.ts";
export { DefaultResponseApp } from "./apps/default-response.ts";
export { EchoApp, EchoHandler, PingApp, PingHandler } from "./apps/echo.ts";
export { HandlersApp } from "./apps/handlers/app.ts";
export { BaseHandler, InvalidNumberError, NotFoundError, parseNumber, type HandlerClass } from "./apps/handlers/base.ts";
export { KeywordHandler, type KeywordArgument } from "./apps/handlers/keyword.ts";
export { PatternHandler } from "./apps/handlers/pattern.ts";
export { WebhookApp } from "./apps/webhook.ts";
export { signWebhook, verifyWebhook } from "./pipeline/webhook-signature.ts";
export type { MessageEventBody } from "./pipeline/forwards.ts";
export type { StatusEventBody } from "./store/kysely/webhook-events.ts";
export { Catalog, t, type TextParams, type Translatable, type Translations } from "./apps/translations.ts";
export { broadcastToGroup, type BroadcastRefusal, type BroadcastResult } from "./broadcast.ts";
export { BackendBase, engine, type BackendClass, type SendRequest, type SendResult } from "./backends/backend.ts";
export type { BackendPort, DeliveryOutcome, DeliveryRef, LoggedMessage, MessageLog } from "./backends/port.ts";
export { DatabaseBackend } from "./backends/database/index.ts";
export { engineNames, findEngine } from "./backends/engines.ts";
export { shippedEngines } from "./backends/shipped-engines.ts";
export {
  classifyStatus,
  GatewayClient,
  GatewayError,
  type GatewayAnswer,
  type GatewayCall,
  type GatewayClientOptions,
  type GatewayFailure,
} from "./backends/gateway-client.ts";
export {
  BaseHttpForm,
  GenericHttpForm,
  type FieldRoles,
  textField,
  type FieldErrors,
  type FormContext,
  type FormData,
  type GenericHttpParams,
  type IncomingData,
} from "./backends/http/form.ts";
export { HttpBackend } from "./backends/http/index.ts";
export { BaseHttpBackendView, GenericHttpBackendView, formatFormErrors, type FormClass, type HttpViewOptions } from "./backends/http/view.ts";
export { KannelBackend } from "./backends/kannel/index.ts";
export { HttpTesterBackend, MessageTesterView } from "./backends/message-tester/index.ts";
export type { BackendView, ViewRequest, ViewResponse } from "./backends/view.ts";
export { VumiBackend } from "./backends/vumi/index.ts";
export { defineConfig, type BackendSettings, type RapidSmsConfig, type ResolvedConfig } from "./config/config.ts";
export { loadConfig } from "./config/load.ts";
export { resolveConfig } from "./config/resolve.ts";
export { LIMITS } from "./messages/limits.ts";
export {
  ConfigError,
  HandlerError,
  InvalidInputError,
  MessageSendingError,
  NoBackendError,
  RapidSmsError,
  SendCancelledError,
  SendTimeoutError,
  StoreUnavailableError,
} from "./errors.ts";
export { ERROR_CODES, type ErrorCode } from "./error-codes.ts";
export type { Connection } from "./messages/connection.ts";
export {
  ErrorMessage,
  IncomingMessage,
  MessageBase,
  OutgoingMessage,
  type BackendContext,
  type Fields,
  type Response,
} from "./messages/messages.ts";
export { deriveMessageStatus, type Direction, type Status } from "./messages/status.ts";
export { getRouter, lookupConnections, receive, send, setRouter } from "./router/global.ts";
export { Router, type RouterOptions } from "./router/router.ts";
export type { ReceiveOptions, RouterApi, RouterPort, RouterSettings, SendOptions } from "./router/api.ts";
export { Pipeline } from "./pipeline/pipeline.ts";
export { createServer } from "./server/server.ts";
export { openStore, type HostDatabase } from "./store/open.ts";
export { idColumn } from "./store/app-data/columns.ts";
export type { PgPool, PgPoolClient } from "./store/postgres.ts";
export { MAX_UNREAD_CHANGES, type StatusChange } from "./pipeline/status-events.ts";
export { DEFAULT_PIPELINE_OPTIONS, retryDelay, type PipelineOptions, type PipelineSettings } from "./pipeline/policy.ts";
export type {
  ConnectionRef,
  ContactInit,
  ContactRecord,
  GroupRecord,
  MessageRecord,
  Page,
  Store,
  TransmissionDetail,
  TransmissionRecord,
  TransmissionRef,
} from "./store/store.ts";
export type { DeliveryReport } from "./messages/status.ts";
export { createSystem, type System } from "./system.ts";
export { createRapidSms, type CreateRapidSmsOptions, type MessageStatus, type RapidSms, type SendArgs } from "./embed/rapidsms.ts";
