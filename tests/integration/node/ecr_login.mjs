// What aws-actions/amazon-ecr-login does with the AWS SDK for JavaScript v3: a registry token
// from ECR (private) or ECR Public, with endpoints taken from the environment only
// (AWS_ENDPOINT_URL_ECR, AWS_ENDPOINT_URL_ECR_PUBLIC, AWS_ENDPOINT_URL). Prints one JSON line.
import { ECRClient, GetAuthorizationTokenCommand, CreateRepositoryCommand } from "@aws-sdk/client-ecr";
import {
  ECRPUBLICClient,
  GetAuthorizationTokenCommand as GetPublicTokenCommand,
  CreateRepositoryCommand as CreatePublicRepositoryCommand,
} from "@aws-sdk/client-ecr-public";

const [which, repository] = process.argv.slice(2);
const out = {};
if (which === "private") {
  const ecr = new ECRClient({ region: process.env.AWS_REGION, maxAttempts: 1 });
  const created = await ecr.send(new CreateRepositoryCommand({ repositoryName: repository }));
  out.repositoryUri = created.repository.repositoryUri;
  const token = await ecr.send(new GetAuthorizationTokenCommand({}));
  const data = token.authorizationData[0];
  out.proxyEndpoint = data.proxyEndpoint;
  out.authorizationToken = data.authorizationToken;
} else {
  const ecr = new ECRPUBLICClient({ region: "us-east-1", maxAttempts: 1 });
  const created = await ecr.send(new CreatePublicRepositoryCommand({ repositoryName: repository }));
  out.repositoryUri = created.repository.repositoryUri;
  const token = await ecr.send(new GetPublicTokenCommand({}));
  out.authorizationToken = token.authorizationData.authorizationToken;
}
console.log(JSON.stringify(out));
